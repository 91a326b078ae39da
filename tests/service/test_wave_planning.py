"""Waves side by side in the daemon: one plans at a time, their applies overlap."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from offboard.core.accounts import Account, AccountId
from offboard.core.identities import Identity, IdentityId
from offboard.core.journal import Phase, Status
from offboard.core.policy import Policy
from offboard.core.snapshots import SourceSnapshot
from offboard.service.reconciling import reconcile
from offboard.service.waves import recheck_wave, wave_accounts
from offboard.store import SqlStore
from tests.executor.fakes import FakeClock, FakeDirectory
from tests.service.test_reconciling import FakeSource, person, store, world

__all__ = ["store", "world"]  # the fixtures


@dataclass
class CountingSource(FakeSource):
    """Counts the waves reading Keycloak at once (the read takes a moment)."""

    reading: int = 0
    most_reading: int = 0

    async def confirm(
        self, snapshot: SourceSnapshot, candidates: Iterable[IdentityId]
    ) -> SourceSnapshot:
        self.reading += 1
        self.most_reading = max(self.most_reading, self.reading)
        try:
            await asyncio.sleep(0.05)
            return await super().confirm(snapshot, candidates)
        finally:
            self.reading -= 1


async def test_waves_plan_one_at_a_time_and_each_is_applied(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    """Four waves of 500 planned together took ten seconds before any was sent while the
    rate limit idled (issue 18); in turn, the first one sends after its own planning."""
    fake, directory = world
    source = CountingSource(dict(fake.people))
    await reconcile(  # the full read a targeted plan needs first (domains, links)
        source=source, directory=directory, store=store, policy=Policy(), clock=FakeClock(),
        apply=True,
    )  # fmt: skip
    source.most_reading = 0
    for n in range(4):
        source.people[f"id-{n}"] = person(n, enabled=False)

    async def wave(*ids: str) -> None:
        report = await recheck_wave(
            [IdentityId(i) for i in ids], source=source, directory=directory, store=store,
            policy=Policy(), clock=FakeClock(),
        )  # fmt: skip
        assert report.run is not None
        assert report.run.status == "applied", (report.run.status, report.run.summary)
        assert report.run.plan is not None
        assert len(report.run.plan.actions) == len(ids), report.run.plan
        assert not report.unread

    await asyncio.gather(wave("id-0", "id-1"), wave("id-2"), wave("id-3"))
    assert source.most_reading == 1
    verified = {
        r.identity_id
        for r in store.journal()
        if r.phase is Phase.READBACK and r.status is Status.VERIFIED
    }
    assert verified == {"id-0", "id-1", "id-2", "id-3"}


async def test_a_wave_asks_each_address_as_keycloak_spells_it() -> None:
    """Not lower-cased: the directory asks each address as given and in lower case (the v2
    ``emails`` filter is exact and Atlassian does not say whether case counts)."""
    asked: list[list[str]] = []

    class Recording:
        async def find_by_emails(self, emails: list[str]) -> list[Account]:
            asked.append(emails)
            return []

        async def read_account(self, account_id: AccountId) -> Account | None:
            return None

    june = Identity(IdentityId("kc-june"), "june", " June.Park@Example.com", enabled=False)
    read = SourceSnapshot((june,), FakeClock().now(), True)
    await wave_accounts(Recording(), [], read)  # type: ignore[arg-type]
    assert asked == [["June.Park@Example.com"]]
