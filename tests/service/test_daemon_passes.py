"""The daemon's passes over the real pipeline: journal to reports, and unlinked events skipped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.links import Link
from offboard.core.policy import Policy
from offboard.ports import FenceLostError
from offboard.service.daemon_passes import ReconcilingPasses
from offboard.service.leasing import Lease
from offboard.service.passes import action_reports
from offboard.store import open_store
from tests.service.fakes import T0, FakeClock


class Untouchable:
    """A vendor side that fails the test if the pass calls it at all."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected vendor call: {name}")


@pytest.fixture
def passes(tmp_path: Path) -> ReconcilingPasses:
    store = open_store(tmp_path / "state.db")
    link = Link(IdentityId("linked"), AccountId("a1"), "x@example.test", T0)
    store.upsert_links([link])
    return ReconcilingPasses(Untouchable(), Untouchable(), store, Policy(), FakeClock())  # type: ignore[arg-type]


async def test_events_about_never_linked_identities_cost_no_vendor_call(
    passes: ReconcilingPasses,
) -> None:
    report = await passes.recheck(IdentityId("stranger"))
    assert report.complete
    assert report.actions == ()
    assert report.counts == {"skipped_unlinked": 1}


async def test_a_linked_identity_is_rechecked(passes: ReconcilingPasses) -> None:
    with pytest.raises(AssertionError, match="unexpected vendor call"):
        await passes.recheck(IdentityId("linked"))


async def test_adopting_unlinked_accounts_means_rechecking_everyone(
    passes: ReconcilingPasses,
) -> None:
    passes.policy = Policy(adopt_unlinked=True)
    with pytest.raises(AssertionError, match="unexpected vendor call"):
        await passes.recheck(IdentityId("stranger"))


def record(
    phase: Phase, status: Status, seconds: int, key: str = "deactivate:u1:a1"
) -> JournalRecord:
    return JournalRecord(
        at=T0 + timedelta(seconds=seconds),
        run_id="r",
        action_key=key,
        phase=phase,
        status=status,
        kind=key.split(":")[0],
        identity_id="u1",
        account_id="a1",
    )


def test_the_read_back_is_the_last_word_on_an_action() -> None:
    reports = action_reports(
        [
            record(Phase.INTENT, Status.PENDING, 0),
            record(Phase.ATTEMPT, Status.SUCCEEDED, 1),
            record(Phase.OUTCOME, Status.SUCCEEDED, 2),
            record(Phase.READBACK, Status.VERIFIED, 3),
            record(Phase.OUTCOME, Status.FAILED, 4, key="suspend:u2:a2"),
        ]
    )
    by_key = {r.key: r for r in reports}
    done = by_key["deactivate:u1:a1"]
    assert (done.outcome, done.confirmed, done.deprovisioning, done.at) == (
        "verified", True, True, T0.replace(second=3),
    )  # fmt: skip
    failed = by_key["suspend:u2:a2"]
    assert (failed.outcome, failed.confirmed) == ("failed", False)


async def test_a_pass_acts_under_the_fence_its_lease_holds_and_not_without_one(
    passes: ReconcilingPasses,
) -> None:
    lease = Lease(passes.store, passes.clock, holder="replica-a", ttl=timedelta(seconds=30))
    passes.lease = lease
    with pytest.raises(FenceLostError, match="not the leader"):
        await passes.recheck(IdentityId("linked"))  # never leader: not a single vendor call
    assert lease.refresh()
    checks = passes.preflight()
    assert checks.fence == lease.fence
    assert checks.fence is not None
    assert checks.reconfirm_after == timedelta(seconds=5)
    assert checks.source is passes.source
