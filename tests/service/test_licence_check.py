"""The licence check against the Atlassian emulator, its numbers checked against a count the
test makes itself from the emulator's records and the people it created."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.atlassian_org.usage import UsageReader
from offboard.core.accounts import AccountId
from offboard.core.identities import Identity, IdentityId
from offboard.core.licence_rendering import summary
from offboard.core.licences import ReportOptions
from offboard.core.links import Link
from offboard.core.snapshots import SourceSnapshot
from offboard.ports import Progress, SystemClock
from offboard.service.licence_check import ReportUnsafeError, run_licence_check
from offboard.store import SqlStore, open_store
from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed
from offboard_emulators.atlassian.fixture import generate_accounts
from offboard_emulators.atlassian.model import Account
from offboard_emulators.atlassian.usage import vary_activity
from tests.adapters.atlassian.test_against_emulator import ADMIN, EXAMPLE, ORG, directory

INACTIVE_DAYS = 60
PRICES = {"jira-software": 8.6, "confluence": 6.05, "*": 3.0}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Keycloak:
    """Just enough of an identity source for the licence check: a fixed snapshot."""

    def __init__(self, identities: list[Identity], complete: bool = True) -> None:
        self.snap = SourceSnapshot(tuple(identities), T0, complete, problems=("page 3 failed",))

    async def snapshot(self, *, progress: Progress | None = None) -> SourceSnapshot:
        return self.snap


def role_of(number: int) -> str:
    """Who the test made the ``number``-th generated account belong to."""
    return ("orphan", "leaver", "matched", "linked", "linked")[number % 5]


@pytest.fixture
def tenant() -> AtlassianState:
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    ids = generate_accounts(
        state, ORG, 400, domain="example.com", prefix="p", directory_id="dir-main"
    )
    vary_activity(state, ids)
    return state


@pytest.fixture
def generated(tenant: AtlassianState) -> list[Account]:
    return [a for a in tenant.accounts.values() if a.email.startswith("p")]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(tmp_path / "offboard.sqlite3")
    yield opened
    opened.close()


def people(generated: list[Account], store: SqlStore) -> list[Identity]:
    """Keycloak identities and links for the generated accounts, by role; Ada the admin too."""
    identities = [Identity(IdentityId("kc-ada"), "ada", "admin@example.com", True)]
    links = [Link(IdentityId("kc-ada"), AccountId(ADMIN), "admin@example.com", T0)]
    for number, account in enumerate(generated):
        role, kc = role_of(number), IdentityId(f"kc-{number}")
        if role == "orphan":
            continue
        identities.append(Identity(kc, f"u{number}", account.email.upper(), role != "leaver"))
        if role != "matched":
            links.append(Link(kc, AccountId(account.account_id), account.email, T0))
    store.upsert_links(links)
    return identities


@pytest.fixture
async def atlassian(tenant: AtlassianState) -> AsyncIterator[AtlassianDirectory]:
    async with directory(httpx.ASGITransport(create_app(tenant))) as adapter:
        yield adapter


def independent_count(
    tenant: AtlassianState, generated: list[Account], now: datetime
) -> tuple[dict[str, Counter[str]], Counter[str]]:
    """Seats per product and state, and accounts per idle bucket, straight from the records."""
    role = {a.account_id: role_of(n) for n, a in enumerate(generated)}
    role[ADMIN] = "linked"
    seats: dict[str, Counter[str]] = {}
    buckets: Counter[str] = Counter()
    for account in tenant.accounts.values():
        member = tenant.orgs[ORG].directories["dir-main"].memberships.get(account.account_id)
        managed = tenant.claim_status(account) == "managed"
        if account.account_status != "active" or member != "active":
            continue
        if managed and not account.access_billable:
            continue
        uses = [p.last_active for p in account.product_access if p.last_active]
        uses += [account.last_active] if account.last_active else []
        idle = (now - max(uses)).days if uses else None
        owner = role.get(account.account_id, "orphan")
        if owner == "orphan" and account.account_id in tenant.scim_links:
            state = "unlinked_scim"
        elif owner in ("orphan", "leaver"):
            state = owner
        elif idle is None:
            joined = account.added_to_org
            state = (
                "inactive" if joined is None or (now - joined).days >= INACTIVE_DAYS else "active"
            )
        else:
            state = "inactive" if idle >= INACTIVE_DAYS else "active"
        for key in {p.key for p in account.product_access}:
            seats.setdefault(key, Counter())[state] += 1
        bucket = "never" if idle is None else next(
            name for name, top in (("0-7", 7), ("8-30", 30), ("31-90", 90), ("91-180", 180),
                                   ("181-365", 365), (">365", 10**9)) if idle <= top
        )  # fmt: skip
        buckets[bucket] += 1
    return seats, buckets


async def test_the_report_agrees_with_an_independent_count(
    tenant: AtlassianState,
    generated: list[Account],
    store: SqlStore,
    atlassian: AtlassianDirectory,
) -> None:
    source = Keycloak(people(generated, store))
    options = ReportOptions(inactive_days=INACTIVE_DAYS, prices=PRICES)
    report = await run_licence_check(
        source, atlassian, UsageReader(atlassian.org), store, store, options, SystemClock()
    )
    seats, buckets = independent_count(tenant, generated, report.taken_at)
    assert {p: dict(c) for p, c in seats.items()} == report.seats
    assert +buckets == +Counter(report.histogram)
    reclaimable = {
        product: sum(n for state, n in counts.items() if state != "active")
        for product, counts in seats.items()
    }
    assert report.reclaimable_seats == sum(reclaimable.values())
    cost = sum(n * PRICES.get(p, PRICES["*"]) for p, n in reclaimable.items())
    assert report.reclaimable_cost() == pytest.approx(cost, abs=0.01)
    states = Counter(line.state.value for line in report.lines)
    assert states["unlinked_scim"] == 1  # Sam, synced through SCIM, owned by nobody
    assert min(states[s] for s in ("leaver", "orphan", "inactive", "active")) > 10
    history = store.licence_reports()
    assert [figures for _, figures in history] == [summary(report)]


async def test_no_report_from_an_incomplete_keycloak_read(
    generated: list[Account], store: SqlStore, atlassian: AtlassianDirectory
) -> None:
    source = Keycloak(people(generated, store), complete=False)
    with pytest.raises(ReportUnsafeError, match="page 3 failed"):
        await run_licence_check(
            source, atlassian, UsageReader(atlassian.org), store, store, ReportOptions(),
            SystemClock(),
        )  # fmt: skip
    assert store.licence_reports() == []


async def test_each_read_of_a_check_reports_its_progress(
    tenant: AtlassianState,
    generated: list[Account],
    store: SqlStore,
    atlassian: AtlassianDirectory,
) -> None:
    """A large org's check reads for minutes: each read says how far it got, apart, so a
    bar per read can show it (Keycloak, Atlassian's accounts, the use listing, the
    per-account activity of accounts that listing leaves out)."""
    seen: dict[str, list[tuple[int, int | None]]] = {}

    def phase(name: str) -> Progress:
        return lambda done, total: seen.setdefault(name, []).append((done, total))

    source = Keycloak(people(generated, store))
    report = await run_licence_check(
        source, atlassian, UsageReader(atlassian.org), store, None, ReportOptions(),
        SystemClock(), progress=phase,
    )  # fmt: skip
    assert {"atlassian", "use", "activity"} <= set(seen)
    managed = sum(1 for a in tenant.accounts.values() if tenant.claim_status(a) == "managed")
    assert seen["use"][-1] == (managed, managed)  # meta.total: the bar knows its end
    done, total = seen["activity"][-1]
    assert done == total
    assert total is not None
    assert total >= 1  # the fixture's unmanaged account with access
    assert report.lines


async def test_an_account_gone_between_the_reads_has_no_seat_and_no_failure() -> None:
    """The per-account activity read answers 404 for an account removed from the org after
    the directory was read: it holds no seat then; the check goes on (a failed check is a
    day without a report, and the daily pass's steps wait an hour)."""
    from offboard.core.accounts import Account as Seat
    from offboard.core.licences import AccountUsage
    from offboard.core.snapshots import TargetSnapshot
    from offboard.ports import NotFoundError
    from offboard.service.licence_check import read_inputs

    class Use:
        async def usages(self, *, progress: Progress | None = None) -> list[AccountUsage]:
            return []

        async def last_active(
            self, account_id: str, *, email: str | None = None, billable: bool = True
        ) -> AccountUsage:
            if account_id == "gone":
                raise NotFoundError("last active dates gone: HTTP 404: ADMIN-404-8", status=404)
            return AccountUsage(account_id, email, billable)

    class Directory:
        async def snapshot(self, *, progress: Progress | None = None) -> TargetSnapshot:
            seats = (Seat(AccountId("gone"), "g@x.example"), Seat(AccountId("here"), "h@x.example"))
            return TargetSnapshot(seats, T0, True)

    inputs = await read_inputs(Keycloak([]), Directory(), Use())  # type: ignore[arg-type]
    assert [(u.account_id, u.billable) for u in inputs.usages] == [("gone", False), ("here", True)]
