"""What a handed or console act reports: an act a fresh read skipped was not carried out."""

from __future__ import annotations

from offboard.core.journal import Status
from offboard.core.operator_requests import RequestState
from offboard.core.policy import ActionKind
from offboard.executor.outcomes import ApplyReport, Outcome
from offboard.service.operator_requests import settled
from tests.executor.fakes import action

LIFT = action(1, ActionKind.REACTIVATE)
SKIPPED = "no longer wanted: user1 is disabled in Keycloak again (re-read just before sending)"


def report(*outcomes: Outcome) -> ApplyReport:
    return ApplyReport("run-1", "fp-1", outcomes)


def test_a_lift_a_fresh_read_skipped_is_refused_with_the_reason_not_done() -> None:
    state, words = settled(report(Outcome(LIFT, Status.SKIPPED, SKIPPED)))
    assert state is RequestState.REFUSED
    assert SKIPPED in words


def test_an_act_already_done_by_an_earlier_run_is_done() -> None:
    state, _ = settled(report(Outcome(LIFT, Status.VERIFIED, "done by an earlier run")))
    assert state is RequestState.DONE


def test_an_act_sent_and_read_back_is_done() -> None:
    sent = Outcome(LIFT, Status.SUCCEEDED, readback=Status.VERIFIED)
    assert settled(report(sent))[0] is RequestState.DONE


def test_one_person_s_act_skipped_exits_5_where_a_whole_apply_exits_0() -> None:
    from offboard.cli.apply import act_exit_code, report_exit_code
    from offboard.cli.exit_codes import ExitCode

    skipped = report(Outcome(LIFT, Status.SKIPPED, SKIPPED))
    assert act_exit_code(skipped) is ExitCode.REFUSED
    assert report_exit_code(skipped) is ExitCode.OK  # a plan's skip is part of the plan
