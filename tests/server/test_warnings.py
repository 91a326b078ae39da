"""/readyz details: rate-limit pauses and credential expiry (issue 12, points 9 and 12)."""

from __future__ import annotations

from datetime import date, timedelta

from prometheus_client import generate_latest

from offboard.core.credentials import expiry_notice
from tests.server.conftest import Wired


async def test_a_pause_in_progress_is_a_readyz_warning(wired: Wired) -> None:
    wired.status.record_rate_limit_pause("atlassian", 3600, 300)
    body = (await wired.client.get("/readyz")).json()
    [warning] = body["warnings"]
    assert "atlassian rate limit" in warning
    assert "capped from 3600 s" in warning
    wired.clock.advance(301)
    assert "warnings" not in (await wired.client.get("/readyz")).json()


async def test_an_expiring_key_is_a_readyz_warning_with_the_fix(wired: Wired) -> None:
    today = wired.clock.now().date()
    wired.status.credential_expiry["atlassian.api_key"] = today + timedelta(days=12)
    [warning] = (await wired.client.get("/readyz")).json()["warnings"]
    assert "atlassian.api_key expires on" in warning
    assert "in 12 days" in warning
    assert "admin.atlassian.com" in warning


async def test_a_far_expiry_is_silent(wired: Wired) -> None:
    today = wired.clock.now().date()
    wired.status.credential_expiry["atlassian.api_key"] = today + timedelta(days=90)
    assert "warnings" not in (await wired.client.get("/readyz")).json()


def test_the_warning_steps_are_30_14_and_7_days() -> None:
    today = date(2026, 12, 1)

    def step(days: int) -> int | None:
        notice = expiry_notice("atlassian.api_key", today + timedelta(days=days), today)
        return None if notice is None else notice.threshold

    assert [step(d) for d in (31, 30, 15, 14, 8, 7, 1, 0, -3)] == [
        None, 30, 30, 14, 14, 7, 7, 0, 0,
    ]  # fmt: skip


async def test_the_pause_metrics_exist(wired: Wired) -> None:
    wired.metrics.rate_limit_pauses.labels("atlassian").inc()
    wired.metrics.rate_limit_pause_seconds.labels("atlassian").inc(30)
    text = generate_latest(wired.metrics.registry).decode()
    assert 'offboard_rate_limit_pauses_total{vendor="atlassian"} 1.0' in text
    assert 'offboard_rate_limit_pause_seconds_total{vendor="atlassian"} 30.0' in text
