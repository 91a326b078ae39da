"""The pure notification decisions: once per condition and channel, cleared only on proof,
rate limits, the digest, and words that say what to do."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from offboard.core.credentials import expiry_notice
from offboard.core.notice_conditions import (
    expiry_condition,
    guard_trip_condition,
    not_ready_condition,
)
from offboard.core.notifications import (
    Condition,
    Kind,
    Record,
    Routing,
    allowance,
    decide,
    digest_due,
    render,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ROUTING = Routing({"email": frozenset(Kind), "slack": frozenset({Kind.HOLD})})
HOLD = Condition(Kind.HOLD, "hold:deprovisioning:1", "on hold", todo=("offboard hold show",))
FAILED = Condition(Kind.FAILED_ACTION, "failed:x", "x failed")


def applied(records: list[Record], conditions: list[Condition], now: datetime) -> list[Record]:
    """What the store holds after a check that delivered everything due."""
    decision = decide(conditions, records, ROUTING, now)
    kept = {(r.key, r.channel): r for r in [*records, *decision.open]}
    for pair in decision.cleared:
        kept.pop(pair, None)
    for channel, condition in decision.due:
        kept[(condition.key, channel)] = replace(kept[(condition.key, channel)], sent_at=now)
    return list(kept.values())


def test_a_new_condition_goes_to_each_channel_that_wants_its_kind() -> None:
    decision = decide([HOLD, FAILED], [], ROUTING, NOW)
    assert sorted((c, k.key) for c, k in decision.due) == [
        ("email", "failed:x"), ("email", "hold:deprovisioning:1"),
        ("slack", "hold:deprovisioning:1"),
    ]  # fmt: skip
    assert len(decision.open) == 3


def test_absence_clears_only_with_proof_or_after_a_long_silence() -> None:
    records = applied([], [HOLD, FAILED], NOW)
    later = NOW + timedelta(minutes=5)
    assert decide([], records, ROUTING, later).cleared == ()  # a fresh process knows nothing
    proof = decide([], records, ROUTING, later, authoritative=frozenset({Kind.HOLD}))
    assert sorted(proof.cleared) == [("hold:deprovisioning:1", "email"),
                                     ("hold:deprovisioning:1", "slack")]  # fmt: skip
    resolved = decide([], records, ROUTING, later, resolved=frozenset({"failed:x"}))
    assert resolved.cleared == (("failed:x", "email"),)
    silent = decide([], records, ROUTING, NOW + timedelta(days=8))
    assert len(silent.cleared) == 3


@given(st.lists(st.sampled_from([HOLD, FAILED]), max_size=4), st.integers(1, 5))
def test_a_condition_that_lasts_is_sent_once_however_many_checks(
    conditions: list[Condition], checks: int
) -> None:
    records: list[Record] = []
    sent = 0
    for i in range(checks):
        now = NOW + timedelta(minutes=i)
        sent += len(decide(conditions, records, ROUTING, now).due)
        records = applied(records, conditions, now)
    unique = {c.key: c for c in conditions}.values()
    assert sent == sum(len([n for n, k in ROUTING.channels.items() if c.kind in k]) for c in unique)


def test_a_failing_delivery_is_due_until_the_attempts_are_spent() -> None:
    mail = Record(HOLD.key, "email", "hold", NOW, NOW, sent_at=NOW)
    record = Record(HOLD.key, "slack", "hold", NOW, NOW, attempts=4)
    assert decide([HOLD], [mail, record], ROUTING, NOW).due == (("slack", HOLD),)
    assert decide([HOLD], [mail, replace(record, attempts=5)], ROUTING, NOW).due == ()


def test_allowance_is_a_sliding_window() -> None:
    sent = [NOW - timedelta(minutes=m) for m in (1, 30, 59, 61)]
    assert allowance(sent, NOW, 5, timedelta(hours=1)) == 2
    assert allowance(sent, NOW, 2, timedelta(hours=1)) == 0


def test_the_digest_is_due_once_a_day_after_its_time() -> None:
    assert digest_due(None, NOW, (8, 0)) == "digest:2026-12-01"
    assert digest_due("digest:2026-12-01", NOW, (8, 0)) is None
    assert digest_due("digest:2026-11-30", NOW, (9, 30)) is None
    assert digest_due(None, NOW, None) is None


def test_the_words_say_what_to_do_and_where() -> None:
    text = render(HOLD, "https://offboard.example.com")
    assert text.subject == "[offboard] on hold"
    assert text.body.endswith("Console: https://offboard.example.com")
    assert "What to do:\n  offboard hold show" in text.body
    trip = guard_trip_condition("full", ["max-deactivations"], ["31 > 30"])
    assert "--override-guard max-deactivations" in render(trip).body


def test_each_expiry_step_is_its_own_condition() -> None:
    today = NOW.date()
    steps = {
        expiry_condition(n).key
        for days in (30, 20, 14, 10, 7, 1, 0)
        if (n := expiry_notice("atlassian.api_key", today + timedelta(days=days), today))
    }
    assert steps == {f"credential:atlassian.api_key:{s}" for s in (30, 14, 7, 0)}


def test_not_ready_waits_for_the_delay_and_keeps_one_key() -> None:
    delay = timedelta(minutes=15)
    assert not_ready_condition(NOW, NOW + timedelta(minutes=14), delay, ["x"]) is None
    late = not_ready_condition(NOW, NOW + timedelta(minutes=20), delay, ["x"])
    assert late is not None
    assert late.key == "not-ready"
    assert "20 minutes" in late.title
