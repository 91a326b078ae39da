"""A saved plan's age, and --max-age, are said in seconds below a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from offboard.cli.errors import RefusedError
from offboard.cli.flows import check_saved_plan
from offboard.core.plan import Plan

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _plan(age: timedelta) -> Plan:
    return Plan(NOW - age, (), (), (), "0123456789abcdef")


@pytest.mark.parametrize(
    ("age", "max_age", "said"),
    [
        (timedelta(seconds=7), timedelta(seconds=1), "made 7 s ago, more than --max-age 1 s"),
        (timedelta(minutes=5), timedelta(seconds=30), "made 5 min ago, more than --max-age 30 s"),
        (timedelta(hours=5), timedelta(hours=3), "made 5 h ago, more than --max-age 3 h"),
    ],
)
def test_the_refusal_says_the_ages_readably(age: timedelta, max_age: timedelta, said: str) -> None:
    saved = _plan(age)
    with pytest.raises(RefusedError, match=said):
        check_saved_plan(saved, saved, NOW, max_age)
