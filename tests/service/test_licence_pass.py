"""The licence pass against the Atlassian emulator: every inactivity rule and the leaver
token rule, carried out through apply_plan, journaled, read back, and undone on return."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.atlassian_org.usage import UsageReader
from offboard.adapters.mail import OutboxNotifier
from offboard.core.accounts import AccountId
from offboard.core.identities import Identity, IdentityId
from offboard.core.inactivity import InactivityPolicy
from offboard.core.journal import Phase, Status
from offboard.core.licences import ReportOptions
from offboard.core.links import Link
from offboard.core.plan import Rule
from offboard.core.policy import ActionKind, Policy, Thresholds
from offboard.service.licence_check import IdentitySnapshots
from offboard.service.licence_pass import (
    TOKENS_CURSOR,
    LicenceConfig,
    LicencePassResult,
    licence_pass,
    token_candidates,
)
from offboard.store import SqlStore, open_store
from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed
from offboard_emulators.atlassian.model import Account, ProductAccess
from offboard_emulators.atlassian.usage import tokens_of
from tests.adapters.atlassian.test_against_emulator import ADMIN, EXAMPLE, LEAVER, ORG, directory
from tests.service.test_licence_check import Keycloak

NOW = datetime.now(UTC)
SITE = "https://emulated.atlassian.net"


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        return self.at

    def days(self, count: int) -> None:
        self.at += timedelta(days=count)


def add(state: AtlassianState, name: str, idle_days: int, email_domain: str = "example.com") -> str:
    account_id = f"acc-{name}"
    used = NOW - timedelta(days=idle_days)
    state.add_account(
        Account(account_id, f"{name}@{email_domain}", name.title(), name, ORG,
                product_access=[ProductAccess("confluence", "Confluence", SITE, used)],
                added_to_org=NOW - timedelta(days=400)),
        {"dir-main": "active"},
    )  # fmt: skip
    return account_id


@pytest.fixture
def tenant() -> AtlassianState:
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    for name, idle in (("ina", 100), ("exa", 200), ("act", 3)):
        add(state, name, idle)
    add(state, "una", 150, "example.org")  # unmanaged: suspended, never deactivated
    state.account(LEAVER).account_status = "inactive"  # offboard deactivated Lee earlier
    return state


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(tmp_path / "offboard.sqlite3")
    people = [("ina", "acc-ina"), ("exa", "acc-exa"), ("act", "acc-act"), ("una", "acc-una"),
              ("ada", ADMIN), ("lee", LEAVER)]  # fmt: skip
    opened.upsert_links(
        Link(IdentityId(f"kc-{n}"), AccountId(a), None, NOW - timedelta(days=500),
             deactivated_by_offboard=n == "lee", deactivated_at=NOW if n == "lee" else None,
             deactivation_kind="deactivate" if n == "lee" else None)
        for n, a in people
    )  # fmt: skip
    yield opened
    opened.close()


def keycloak() -> IdentitySnapshots:
    def person(name: str, domain: str = "example.com", **extra: object) -> Identity:
        return Identity(IdentityId(f"kc-{name}"), name, f"{name}@{domain}", True, **extra)  # type: ignore[arg-type]

    return Keycloak([
        person("ina", attributes={"manager_email": ("boss@example.com",)}),
        person("exa", groups=frozenset({"/contractors"})),
        person("act"), person("una", "example.org"),
        Identity(IdentityId("kc-ada"), "ada", "admin@example.com", True),
        Identity(IdentityId("kc-lee"), "lee", "leaver@example.com", False),
    ])  # fmt: skip


@pytest.fixture
async def atlassian(tenant: AtlassianState) -> AsyncIterator[AtlassianDirectory]:
    async with directory(httpx.ASGITransport(create_app(tenant))) as adapter:
        yield adapter


RULES = InactivityPolicy(
    enabled=True, warn_after=timedelta(days=90), remove_after=timedelta(days=30),
    remove_with=ActionKind.DEACTIVATE, delete_after=timedelta(days=60),
    exempt_groups=frozenset({"contractors"}), revoke_leaver_tokens=True,
)  # fmt: skip


def config(rules: InactivityPolicy = RULES, thresholds: Thresholds | None = None) -> LicenceConfig:
    return LicenceConfig(
        ReportOptions(inactive_days=90), rules, Policy(thresholds=thresholds or Thresholds()),
        admin_email="it@example.com",
    )  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path) -> OutboxNotifier:
    return OutboxNotifier(tmp_path / "outbox")


async def run(
    atlassian: AtlassianDirectory,
    store: SqlStore,
    outbox: OutboxNotifier,
    clock: Clock,
    cfg: LicenceConfig | None = None,
    source: IdentitySnapshots | None = None,
) -> LicencePassResult:
    return await licence_pass(
        source or keycloak(), atlassian, UsageReader(atlassian.org), store, outbox, clock,
        cfg or config(),
    )  # fmt: skip


def planned(result: LicencePassResult) -> set[tuple[str, str, str]]:
    return {(a.kind.value, a.account_id, a.rule.value) for a in result.plan.actions}


async def test_the_inactivity_steps_in_order(
    tenant: AtlassianState, atlassian: AtlassianDirectory, store: SqlStore,
    outbox: OutboxNotifier, clock: Clock,
) -> None:  # fmt: skip
    first = await run(atlassian, store, outbox, clock)
    assert planned(first) == {
        ("notify_inactive", "acc-ina", "inactive-warn"),
        ("notify_inactive", "acc-una", "inactive-warn"),
        ("revoke_tokens", LEAVER, "leaver-tokens"),
    }
    assert {(e.rule, e.account_id) for e in first.plan.entries} == {
        (Rule.INACTIVE_EXEMPT, "acc-exa")
    }
    assert first.applied is not None
    assert first.applied.all_done
    mails = {message_from_bytes(p.read_bytes())["To"]: message_from_bytes(p.read_bytes())
             for p in outbox.messages()}  # fmt: skip
    assert mails["ina@example.com"]["Cc"] == "boss@example.com"  # the manager
    assert mails["una@example.org"]["Cc"] == "it@example.com"  # no manager: the admin

    clock.days(10)
    assert planned(await run(atlassian, store, outbox, clock)) == set()  # waiting

    clock.days(21)
    removal = await run(atlassian, store, outbox, clock)
    assert planned(removal) == {
        ("deactivate", "acc-ina", "inactive-remove"),
        ("suspend", "acc-una", "inactive-remove"),  # unmanaged: suspended instead
    }
    assert removal.applied is not None
    assert removal.applied.all_done
    assert tenant.account("acc-ina").account_status == "inactive"
    assert tenant.orgs[ORG].directories["dir-main"].memberships["acc-una"] == "suspended"
    ina_link = store.links(account_ids=["acc-ina"])[0]
    assert not ina_link.deactivated_by_offboard  # handed back from the leaver flow

    clock.days(61)
    deletion = await run(atlassian, store, outbox, clock)
    assert planned(deletion) == {
        ("delete", "acc-ina", "inactive-delete"),
        ("notify_inactive", "acc-act", "inactive-warn"),  # unused for 95 days by now
    }
    assert tenant.account("acc-ina").pending_deletion_at is not None


async def test_a_person_who_comes_back_gets_access_back(
    tenant: AtlassianState, atlassian: AtlassianDirectory, store: SqlStore,
    outbox: OutboxNotifier, clock: Clock,
) -> None:  # fmt: skip
    await run(atlassian, store, outbox, clock)
    clock.days(31)
    await run(atlassian, store, outbox, clock)
    clock.days(2)
    tenant.account("acc-una").product_access[0].last_active = clock.now()  # used again
    exempted = config(replace(RULES, exempt_emails=frozenset({"ina@example.com"})))
    back = await run(atlassian, store, outbox, clock, exempted)
    assert planned(back) == {
        ("reactivate", "acc-ina", "inactive-returned"),
        ("restore", "acc-una", "inactive-returned"),
    }
    assert back.applied is not None
    assert back.applied.all_done
    assert tenant.account("acc-ina").account_status == "active"
    assert tenant.orgs[ORG].directories["dir-main"].memberships["acc-una"] == "active"
    assert store.inactivity_marks() == []


async def test_tokens_revoked_one_by_one_and_nobody_elses(
    tenant: AtlassianState, atlassian: AtlassianDirectory, store: SqlStore,
    outbox: OutboxNotifier, clock: Clock,
) -> None:  # fmt: skip
    result = await run(atlassian, store, outbox, clock)
    revoke = next(a for a in result.plan.actions if a.kind is ActionKind.REVOKE_TOKENS)
    assert "holds 2 API tokens" in revoke.reason
    assert tokens_of(tenant, LEAVER) == []
    assert [t.token_id for t in tokens_of(tenant, ADMIN)] == ["tok-admin-1"]
    assert result.applied is not None
    records = store.journal(run_id=result.applied.run_id)
    notes = [r.detail for r in records if r.phase is Phase.NOTE and "token" in r.action_key]
    assert len(notes) == 2
    assert any("tok-leaver-1 (CI pipeline)" in n for n in notes)
    phases = {(r.phase, r.status) for r in records if r.action_key == revoke.key}
    assert (Phase.READBACK, Status.VERIFIED) in phases
    again = await run(atlassian, store, outbox, clock)
    assert not any(a.kind is ActionKind.REVOKE_TOKENS for a in again.plan.actions)
    assert store.cursor(TOKENS_CURSOR) is not None  # the sweep is complete


def test_a_sweep_looks_only_at_accounts_deprovisioned_since_the_last() -> None:
    def gone(account: str, days_ago: int | None) -> Link:
        at = None if days_ago is None else NOW - timedelta(days=days_ago)
        return Link(IdentityId("kc"), AccountId(account), None, NOW,
                    deactivated_by_offboard=True, deactivated_at=at)  # fmt: skip

    links = [gone("old", 10), gone("new", 0), gone("unknown", None),
             Link(IdentityId("kc"), AccountId("current"), None, NOW)]  # fmt: skip
    assert token_candidates(links, None) == ["new", "old", "unknown"]
    assert token_candidates(links, NOW - timedelta(hours=1)) == ["new", "unknown"]


async def test_the_guards_hold_the_removals(
    tenant: AtlassianState, atlassian: AtlassianDirectory, store: SqlStore,
    outbox: OutboxNotifier, clock: Clock,
) -> None:  # fmt: skip
    await run(atlassian, store, outbox, clock)
    clock.days(31)
    held = await run(
        atlassian, store, outbox, clock, config(thresholds=Thresholds(max_deactivations=1))
    )
    assert held.blocked is not None
    assert "max-deactivations" in held.blocked
    assert tenant.account("acc-ina").account_status == "active"
    assert all(m.removed_at is None for m in store.inactivity_marks())


async def test_off_by_default(
    atlassian: AtlassianDirectory, store: SqlStore, outbox: OutboxNotifier, clock: Clock
) -> None:
    result = await run(atlassian, store, outbox, clock, config(InactivityPolicy()))
    assert result.plan.actions == ()
    assert outbox.messages() == []


async def test_an_account_atlassian_no_longer_knows_holds_no_tokens() -> None:
    """A deleted account's token list answers 404 for good: it holds no token, and the
    sweep must not count it unread (else the sweep never completes, and every pass lists
    the tokens of every account offboard ever deprovisioned). Other failures stay unread."""
    from offboard.ports import ApiToken, NotFoundError, TemporaryError
    from offboard.service.licence_pass import token_counts

    class Tokens:
        async def api_tokens(self, account_id: str) -> list[ApiToken]:
            if account_id == "deleted":
                raise NotFoundError("list tokens deleted: HTTP 404: accountNotFound", status=404)
            if account_id == "flaky":
                raise TemporaryError("list tokens flaky: HTTP 503", status=503)
            return [ApiToken("t-1", "CI", None, None)]

    counts, unread = await token_counts(Tokens(), ["deleted", "flaky", "kept"])  # type: ignore[arg-type]
    assert (counts, unread) == ({"kept": 1}, 1)
