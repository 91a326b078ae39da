"""``batches``: many conditions of a batched kind become one message, in urgency order."""

from __future__ import annotations

from offboard.core.notifications import BATCH_OVER, Condition, Kind, batches


def blocked(n: int) -> list[Condition]:
    return [Condition(Kind.BLOCKED_PERSON, f"blocked:{i}", f"p{i} waits", (), ("decide",))
            for i in range(n)]  # fmt: skip


def test_over_the_threshold_one_message_tells_them_all() -> None:
    hold = Condition(Kind.HOLD, "hold:1", "on hold")
    due = [hold, *blocked(BATCH_OVER + 1)]
    (first, one), (batch, told) = batches(due)
    assert first is hold
    assert one == (hold,)
    assert batch.title == f"{BATCH_OVER + 1} people wait for a human"
    assert batch.details[0] == "- p0 waits"
    assert batch.todo == ("decide",)
    assert [c.key for c in told] == [f"blocked:{i}" for i in range(BATCH_OVER + 1)]


def test_at_the_threshold_each_is_its_own_message() -> None:
    due = blocked(BATCH_OVER)
    assert [told for _, told in batches(due)] == [(c,) for c in due]
