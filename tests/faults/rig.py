"""The fault matrix's rig: both emulators on loopback sockets, a seeded world, and the verdict.

The world is 60 linked people, every 20th a leaver (two disabled, one deleted in Keycloak),
built with the benchmark's builders so both use the same directory. The verdict is judged
from the emulators and the store after the scenario (fault, then a clean run when the
scenario has one): who is a leaver is read from the Keycloak emulator at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    DIRECTORY,
    DOMAIN,
    ORG_ID,
    ORG_KEY,
    OWNER_ID,
    REALM,
    World,
    atlassian_parts,
    keycloak_state,
    make_leave,
    seed_links,
)
from pydantic import SecretStr

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.http import RetryPolicy
from offboard.adapters.keycloak import KeycloakSource
from offboard.core.identities import IdentityId
from offboard.core.journal import Phase, Status
from offboard.core.policy import Policy
from offboard.ports import SystemClock
from offboard.service.reconciling import RunReport, recheck_identity, reconcile
from offboard.store import SqlStore, open_store
from offboard_emulators.atlassian.app import create_app as atlassian_app
from offboard_emulators.atlassian.model import ApiKey
from offboard_emulators.common.server import serve_in_thread
from offboard_emulators.keycloak.app import create_app as keycloak_app

PEOPLE = 60
LEAVER_EVERY = 20
EXPIRED_KEY = "bench-expired-key"
POLICY = Policy(domains=frozenset({DOMAIN}))


@dataclass
class Row:
    """One line of the reliability table."""

    fault: str
    path: str
    during: str = ""
    leavers: str = ""
    wrongful: int = 0
    lost: int = 0
    repeated: int = 0
    beyond_budget: int | None = None
    """Waves only: deprovisioning requests sent past the budget before a human released it."""

    @property
    def ok(self) -> bool:
        done, _, total = self.leavers.partition("/")
        within = not self.beyond_budget
        return (
            self.wrongful == 0
            and self.lost == 0
            and self.repeated == 0
            and done == total
            and within
        )


ROWS: list[Row] = []
"""Every row recorded in this session, in order (the conftest writes them out)."""


def record(row: Row) -> Row:
    """Keep the row for the table and check it: no wrongful action, nothing lost or repeated."""
    ROWS.append(row)
    assert row.wrongful == 0, f"non-leavers touched: {row}"
    assert row.lost == 0, f"journal intents left without an outcome: {row}"
    assert row.repeated == 0, f"an effect was repeated: {row}"
    assert not row.beyond_budget, f"deprovisioned beyond the budget: {row}"
    assert row.ok, f"a leaver was left active: {row}"
    return row


@dataclass
class Rig:
    """Running emulators, the world and the store; builds adapters and judges the outcome."""

    kc: Any
    at: Any
    kc_url: str
    at_url: str
    world: World
    store_path: Path
    reports: list[str] = field(default_factory=list)

    def source(self, **overrides: Any) -> KeycloakSource:
        return make_source(self.kc_url, **overrides)

    def directory(self, key: str = ORG_KEY) -> AtlassianDirectory:
        return make_directory(self.at_url, key)

    def open(self) -> SqlStore:
        return open_store(self.store_path)

    async def reconcile(self, key: str = ORG_KEY, **source: Any) -> RunReport:
        """One full run with apply; what it said is kept for the 'during' column."""
        store = self.open()
        try:
            async with self.source(**source) as kc, self.directory(key) as at:
                report = await reconcile(source=kc, directory=at, store=store, policy=POLICY,
                                         clock=SystemClock(), apply=True)  # fmt: skip
        finally:
            store.close()
        self.reports.append(describe(report))
        return report

    async def recheck(self, index: int, key: str = ORG_KEY, **source: Any) -> RunReport:
        """The daemon's re-check of one person."""
        store = self.open()
        try:
            async with self.source(**source) as kc, self.directory(key) as at:
                report = await recheck_identity(
                    IdentityId(self.world.identity_ids[index]), source=kc, directory=at,
                    store=store, policy=POLICY, clock=SystemClock(),
                )  # fmt: skip
        finally:
            store.close()
        self.reports.append(describe(report))
        return report

    def leaver_indices(self) -> list[int]:
        """Who is a leaver now, by the Keycloak emulator's stored state."""
        users = self.kc.realm.users
        return [
            n
            for n, identity in enumerate(self.world.identity_ids)
            if identity not in users or not users[identity].enabled
        ]

    def verdict(self, fault: str, path: str, during: str = "") -> Row:
        """Leavers done, non-leavers touched, journal entries left open, effects repeated."""
        leavers = set(self.leaver_indices())
        with self.at.state.lock:
            status = {n: self.at.state.account(a).account_status
                      for n, a in enumerate(self.world.account_ids)}  # fmt: skip
        writes = Counter[str]()
        successes = Counter[str]()
        for entry in self.at.log.entries():
            writing = entry.method in ("POST", "PATCH", "PUT", "DELETE")
            if writing and "/_emulator" not in entry.path:
                account = next((a for a in self.world.account_ids if a in entry.path), None)
                if account is not None:
                    writes[account] += 1
                    successes[account] += entry.status < 300
        index = {a: n for n, a in enumerate(self.world.account_ids)}
        wrongful = {index[a] for a in writes if index[a] not in leavers}
        wrongful |= {n for n, s in status.items() if n not in leavers and s != "active"}
        store = self.open()
        try:
            lost = len(store.unfinished())
            settled = {r.account_id for r in store.journal()
                       if r.phase is Phase.OUTCOME and r.status is Status.SUCCEEDED}  # fmt: skip
        finally:
            store.close()
        lost += sum(1 for account, count in successes.items() if count and account not in settled)
        done = sum(status[n] == "inactive" for n in leavers)
        return Row(
            fault=fault,
            path=path,
            during=during or "; ".join(self.reports),
            leavers=f"{done}/{len(leavers)}",
            wrongful=len(wrongful),
            lost=lost,
            repeated=sum(1 for count in successes.values() if count > 1),
        )


def make_source(url: str, **overrides: Any) -> KeycloakSource:
    """Small pages (so walks have several), a short timeout and a short re-read pause."""
    options: dict[str, Any] = {"page_size": 10, "concurrency": 2, "timeout": 2.0,
                               "reread_delay": 0.05, **overrides}  # fmt: skip
    return KeycloakSource(url, REALM, CLIENT_ID, SecretStr(CLIENT_SECRET), **options)


def make_directory(url: str, key: str = ORG_KEY) -> AtlassianDirectory:
    return AtlassianDirectory(
        org_id=ORG_ID, org_key=key, base_url=url, directory_id=DIRECTORY,
        rate_per_second=200, burst=20, key_owner_account_id=OWNER_ID,
        retry=RetryPolicy(attempts=6, timeout=60, wait_initial=0.05, wait_max=2.0),
    )  # fmt: skip


async def reconcile_once(kc_url: str, at_url: str, store_path: Path) -> RunReport:
    """One full run with apply, as ``offboard reconcile --apply`` would do it."""
    store = open_store(store_path)
    try:
        async with make_source(kc_url) as kc, make_directory(at_url) as at:
            return await reconcile(source=kc, directory=at, store=store, policy=POLICY,
                                   clock=SystemClock(), apply=True)  # fmt: skip
    finally:
        store.close()


def describe(report: RunReport) -> str:
    """A run in a few words: status, actions done, guards, first problem."""
    words = [report.status]
    if report.recovered:
        words.append(f"recovered {len(report.recovered)} open action(s) first")
    if report.applied is not None:
        counts = sorted((k, v) for k, v in report.applied.counts.items() if v)
        words.append(", ".join(f"{k} {v}" for k, v in counts) or "nothing to do")
    if report.plan is not None and report.plan.blocked_by:
        words.append("blocked by " + ", ".join(g.name.value for g in report.plan.blocked_by))
    if report.problems:
        words.append(f"problem: {report.problems[0][:90]}")
    return " (".join([words[0], " / ".join(words[1:]) + ")"]) if len(words) > 1 else words[0]


@contextlib.contextmanager
def _serving(tmp: Path, store_path: Path | None) -> Iterator[Rig]:
    """Both emulators in threads on loopback sockets, everyone linked, nobody left yet."""
    kc, world = keycloak_state(PEOPLE, LEAVER_EVERY, leave=False)
    at, account_ids = atlassian_parts(PEOPLE)
    with at.state.lock:
        at.state.add_key(ApiKey("key-expired", EXPIRED_KEY, "org", ORG_ID,
                                expires_at=_long_ago()))  # fmt: skip
    world = dataclasses.replace(world, account_ids=account_ids)
    store = store_path or tmp / "state.db"
    seed_links(store, world)
    with serve_in_thread(keycloak_app(kc)) as kc_url, \
         serve_in_thread(atlassian_app(parts=at)) as at_url:  # fmt: skip
        yield Rig(kc, at, kc_url, at_url, world, store)


@contextlib.contextmanager
def running_rig(tmp: Path, store_path: Path | None = None) -> Iterator[Rig]:
    """For full reconciliations: the leavers have left (disabled or deleted) before the run."""
    with _serving(tmp, store_path) as rig:
        make_leave(rig.kc, rig.world)
        yield rig


@contextlib.asynccontextmanager
async def daemon_rig(tmp: Path) -> AsyncIterator[Rig]:
    """As the daemon sees it: a full reconciliation while nobody has left, then the leavers
    leave (disabled or deleted in Keycloak) and only re-checks follow."""
    with _serving(tmp, None) as rig:
        await rig.reconcile()
        make_leave(rig.kc, rig.world)
        rig.reports.clear()
        yield rig


def _long_ago() -> Any:
    from datetime import UTC, datetime

    return datetime(2020, 1, 1, tzinfo=UTC)
