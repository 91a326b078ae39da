"""The wave settings (``daemon.wave_linger``, ``daemon.wave_max_people``): bounds and wiring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from offboard.cli.config_docs import format_duration
from offboard.settings.runtime import DaemonSettings


def test_the_defaults_linger_a_third_of_a_second_and_cap_waves_at_500() -> None:
    section = DaemonSettings()
    assert section.wave_linger == timedelta(seconds=0.3)
    assert section.wave_max_people == 500


def test_a_fractional_linger_is_accepted_and_documented_as_it_is_written() -> None:
    assert DaemonSettings(wave_linger="0.5s").wave_linger == timedelta(seconds=0.5)  # type: ignore[arg-type]
    assert format_duration(timedelta(seconds=0.3)) == "0.3s"
    assert format_duration(timedelta(minutes=15)) == "15m"


@pytest.mark.parametrize("linger", ["11s", "1m"])
def test_a_linger_beyond_ten_seconds_is_refused(linger: str) -> None:
    with pytest.raises(ValidationError, match="wave_linger: must be between 0s and 10s"):
        DaemonSettings(wave_linger=linger)  # type: ignore[arg-type]


@pytest.mark.parametrize("people", [0, 10_001])
def test_the_wave_cap_is_bounded(people: int) -> None:
    with pytest.raises(ValidationError, match="wave_max_people"):
        DaemonSettings(wave_max_people=people)
