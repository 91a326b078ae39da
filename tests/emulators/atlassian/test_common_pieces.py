"""Unit checks of the shared emulator pieces the Atlassian emulator is built on."""

from __future__ import annotations

import pytest

from offboard_emulators.common.faults import FaultConfig, FaultInjector
from offboard_emulators.common.ratelimit import RateLimitConfig, RateLimiter
from offboard_emulators.common.recorder import RecordedRequest, RequestLog


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_continuously_per_key_and_path() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(RateLimitConfig(capacity=2, period_seconds=10), monotonic=clock)
    assert [limiter.take("k", "/a").allowed for _ in range(3)] == [True, True, False]
    refused = limiter.take("k", "/a")
    assert refused.retry_after_seconds == 5
    assert limiter.take("k", "/b").allowed
    assert limiter.take("other", "/a").allowed
    clock.now += 5
    assert limiter.take("k", "/a").allowed
    assert not limiter.take("k", "/a").allowed


def test_disabled_limits_always_allow() -> None:
    limiter = RateLimiter(RateLimitConfig(capacity=1, enabled=False))
    assert all(limiter.take("k", "/a").allowed for _ in range(5))


@pytest.mark.parametrize(
    "bad",
    [{"capacity": 0}, {"period_seconds": 0}, {"reset_precision": "hour"}],
)
def test_bad_limit_configs_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must"):
        RateLimitConfig.from_json(bad)


def test_fail_nth_fires_times_in_a_row_then_recovers() -> None:
    faults = FaultInjector(
        FaultConfig.from_json({"fail_nth": [{"path_contains": "/users", "nth": 2, "times": 2}]})
    )
    answers = [faults.failure_for("GET", "/x/users") for _ in range(5)]
    assert answers == [None, 500, 500, None, None]
    assert faults.failure_for("POST", "/x/users") is None


def test_error_rate_is_seeded_and_scoped_to_a_path() -> None:
    config = {"error_rate": 0.5, "error_status": 500, "path_contains": "/scim/", "seed": 7}
    first = FaultInjector(FaultConfig.from_json(config))
    second = FaultInjector(FaultConfig.from_json(config))
    runs = [[f.failure_for("GET", "/scim/Users") for _ in range(20)] for f in (first, second)]
    assert runs[0] == runs[1]
    assert set(runs[0]) == {None, 500}
    assert first.failure_for("GET", "/admin/v1/orgs") is None
    with pytest.raises(ValueError, match="5xx"):
        FaultConfig.from_json({"error_status": 404})


def test_request_log_is_bounded() -> None:
    log = RequestLog(capacity=2)
    for n in range(3):
        log.append(RecordedRequest("GET", f"/{n}", "", 200, None, "t"))
    assert [entry.path for entry in log.entries()] == ["/1", "/2"]
    assert len(log) == 2
