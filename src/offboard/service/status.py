"""What the daemon knows about itself: for /readyz, the status page and the metrics.

:class:`DaemonStatus` keeps the recent history in memory (bounded) and forwards every fact to a
:class:`Telemetry` sink; the server layer provides a Prometheus one. Nothing here holds a secret.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from offboard.core.credentials import expiry_notice
from offboard.ports import Clock
from offboard.service.holds import GuardState
from offboard.service.passes import ActionReport, PassReport

VENDORS = ("keycloak", "atlassian")
STORE = "store"
"""The key under which the lease loop records whether the store answered."""


class Telemetry(Protocol):
    """Where the daemon's facts go as metrics."""

    def pass_finished(self, report: PassReport) -> None: ...

    def action_finished(self, kind: str, outcome: str) -> None: ...

    def guard_tripped(self, guard: str) -> None: ...

    def blocked_plans(self, count: int) -> None: ...

    def deprovisioning_latency(self, seconds: float) -> None: ...

    def event_lag(self, seconds: float) -> None: ...

    def leader(self, held: bool) -> None: ...

    def guard_state(self, state: GuardState) -> None: ...


class NullTelemetry:
    """Telemetry that records nothing (tests, one-shot commands)."""

    def pass_finished(self, report: PassReport) -> None: ...
    def action_finished(self, kind: str, outcome: str) -> None: ...
    def guard_tripped(self, guard: str) -> None: ...
    def blocked_plans(self, count: int) -> None: ...
    def deprovisioning_latency(self, seconds: float) -> None: ...
    def event_lag(self, seconds: float) -> None: ...
    def leader(self, held: bool) -> None: ...
    def guard_state(self, state: GuardState) -> None: ...


@dataclass(frozen=True, slots=True)
class BlockedPlan:
    """A plan a guard refused; shown until a later plan for the same scope passes."""

    scope: str
    """``full``, the identity id of a one-person re-check, or ``wave of N from <id>``."""
    at: datetime
    guards: tuple[str, ...]
    messages: tuple[str, ...]
    waiting: frozenset[str] = frozenset()
    """Identities whose deprovisioning the plan held back; once every one of them is done
    by a later pass the entry goes: nothing applied is ever shown as waiting for review."""


@dataclass(frozen=True, slots=True)
class LatencySummary:
    count: int
    p50: float | None
    p95: float | None
    max: float | None


_DONE = frozenset({"verified", "succeeded"})


def percentile(samples: list[float], share: float) -> float | None:
    """Nearest-rank percentile of the samples (``share`` in 0..1)."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.4999)))
    return ordered[rank - 1]


class DaemonStatus:
    """Bounded in-memory history of passes, actions, blocks and latencies."""

    def __init__(self, clock: Clock, telemetry: Telemetry | None = None, *, keep: int = 50):
        self.clock = clock
        self.telemetry: Telemetry = telemetry or NullTelemetry()
        self.started_at = clock.now()
        self.passes: deque[PassReport] = deque(maxlen=keep)
        self.actions: deque[ActionReport] = deque(maxlen=keep * 4)
        self.latencies: deque[float] = deque(maxlen=1000)
        self.blocked: dict[str, BlockedPlan] = {}
        self.last_full: PassReport | None = None
        self.last_complete_full: PassReport | None = None
        self.vendor_seen: dict[str, datetime] = {}
        self.vendor_failed: dict[str, datetime] = {}
        self.leader = False
        self.last_poll: datetime | None = None
        self.last_event_lag: float | None = None
        self.rate_limited: dict[str, tuple[datetime, float, float]] = {}
        """Vendor → (pause ends, seconds asked, seconds applied) of its latest pause."""
        self.credential_expiry: dict[str, date] = {}
        """Credential name → its expiry date, when known (configuration or the API)."""
        self.guards: GuardState | None = None
        """The hold and the budget as the store had them after the last pass."""

        self.intake_problems: dict[str, str] = {}
        """What keeps events from reaching the daemon (admin events off...), by check name."""
        self.guard_reader: Callable[[], GuardState] | None = None
        """Reads the hold and budget from the store (set by the wiring; None in tests)."""

    def record_rate_limit_pause(self, vendor: str, asked: float, applied: float) -> None:
        """A vendor said to slow down: every call to it waits ``applied`` seconds."""
        until = self.clock.now() + timedelta(seconds=applied)
        self.rate_limited[vendor] = (until, asked, applied)

    def warnings(self) -> list[str]:
        """What needs attention without making the replica unready: rate-limit pauses in
        progress and credentials close to expiry (30, 14, 7 days), each with its fix."""
        now = self.clock.now()
        found: list[str] = []
        for vendor, (until, asked, applied) in sorted(self.rate_limited.items()):
            if until > now:
                capped = f", capped from {asked:.0f} s" if applied < asked else ""
                found.append(
                    f"{vendor} rate limit: calls paused until {until.isoformat()} "
                    f"({applied:.0f} s{capped})"
                )
        found.extend(self.intake_problems[name] for name in sorted(self.intake_problems))
        for name, expires_on in sorted(self.credential_expiry.items()):
            notice = expiry_notice(name, expires_on, now.date())
            if notice is not None:
                found.append(f"{notice.message}: {notice.how_to_renew}")
        return found

    def refresh_guards(self) -> None:
        """Read the hold and budget from the store now, if a reader is set. A released hold
        (by a human, maybe from another process) takes the blocked plans it held with it."""
        if self.guard_reader is not None:
            self.record_guard_state(self.guard_reader())

    def record_guard_state(self, state: GuardState) -> None:
        """The hold, the budget per window and any source anomaly, read from the store."""
        self.guards = state
        self.telemetry.guard_state(state)
        if state.hold is None:
            # Every blocked plan with someone to deprovision put (or joined) a hold on an
            # applying path: with no hold active, a human released it; its people were
            # re-planned from fresh reads, so nothing there waits for review any more.
            for scope, blocked in list(self.blocked.items()):
                if blocked.waiting:
                    del self.blocked[scope]
            self.telemetry.blocked_plans(len(self.blocked))

    def record_pass(self, report: PassReport, scope: str) -> None:
        """Remember one pass, its actions and guard verdict, and forward them as metrics."""
        self.passes.appendleft(report)
        self.telemetry.pass_finished(report)
        for action in report.actions:
            self.actions.appendleft(action)
            self.telemetry.action_finished(action.kind, action.outcome)
        if report.kind == "full":
            self.last_full = report
            if report.complete:
                self.last_complete_full = report
                for vendor in VENDORS:
                    self.vendor_reachable(vendor, True, report.finished_at)
        self._update_blocks(report, scope)
        self._forget_done(report)

    def _forget_done(self, report: PassReport) -> None:
        """Blocked plans whose every waiting person was deprovisioned since are history."""
        done = {
            a.identity_id
            for a in report.actions
            if a.deprovisioning and a.identity_id and a.outcome in _DONE
        }
        if not done:
            return
        for scope, blocked in list(self.blocked.items()):
            if not blocked.waiting & done:
                continue
            left = blocked.waiting - done
            if left:
                self.blocked[scope] = replace(blocked, waiting=left)
            else:
                del self.blocked[scope]
        self.telemetry.blocked_plans(len(self.blocked))

    def _update_blocks(self, report: PassReport, scope: str) -> None:
        if report.plan is None:
            return
        blocking = report.plan.blocked_by
        if blocking:
            for guard in blocking:
                self.telemetry.guard_tripped(guard.name.value)
            self.blocked[scope] = BlockedPlan(
                scope,
                report.finished_at,
                tuple(g.name.value for g in blocking),
                tuple(g.message for g in blocking),
                frozenset(a.identity_id for a in report.plan.deprovisioning),
            )
        elif scope == "full":
            self.blocked.clear()  # a passing full plan is the authority for every identity
        else:
            self.blocked.pop(scope, None)
        self.telemetry.blocked_plans(len(self.blocked))

    def record_latency(self, seconds: float) -> None:
        self.latencies.append(seconds)
        self.telemetry.deprovisioning_latency(seconds)

    def record_poll(self, at: datetime, lag: float | None) -> None:
        self.last_poll = at
        self.vendor_reachable("keycloak", True, at)
        if lag is not None:
            self.last_event_lag = lag
            self.telemetry.event_lag(lag)

    def vendor_reachable(self, vendor: str, ok: bool, at: datetime) -> None:
        """Note a (failed) exchange with a vendor, for /readyz."""
        (self.vendor_seen if ok else self.vendor_failed)[vendor] = at

    def set_leader(self, held: bool) -> None:
        self.leader = held
        self.telemetry.leader(held)

    def latency(self) -> LatencySummary:
        samples = list(self.latencies)
        return LatencySummary(
            len(samples),
            percentile(samples, 0.50),
            percentile(samples, 0.95),
            max(samples) if samples else None,
        )

    def not_ready_reasons(self, limits: Mapping[str, timedelta]) -> list[str]:
        """Why this replica should not get traffic; empty when ready.

        A healthy standby is ready: it can take over as soon as the lease is free, and a
        webhook it gets is answered 503 with Retry-After. Every replica needs the store (the
        lease loop's last answer at most ``limits["store"]`` old). The leader also needs
        ``reconcile`` (max age of the last complete full reconciliation) and ``vendor`` (max
        age of the last good exchange with each vendor). Leadership itself is shown apart:
        :attr:`leader`, ``/leaderz`` and the ``offboard_leader`` metric.
        """
        now = self.clock.now()
        reasons: list[str] = []
        store = self.vendor_seen.get(STORE)
        if store is None or now - store > limits.get(STORE, timedelta(minutes=1)):
            reasons.append("the store (which holds the leader lease) not reached recently")
        if self.leader:
            reasons.extend(self._leader_reasons(now, limits))
        return reasons

    def _leader_reasons(self, now: datetime, limits: Mapping[str, timedelta]) -> list[str]:
        reasons: list[str] = []
        last = self.last_complete_full
        if last is None:
            reasons.append("no complete reconciliation yet")
        elif now - last.finished_at > limits["reconcile"]:
            reasons.append(f"last complete reconciliation is old ({last.finished_at.isoformat()})")
        if self.last_full is not None and not self.last_full.complete:
            reasons.append(f"last reconciliation incomplete: {_few(self.last_full.problems)}")
        for vendor in VENDORS:
            seen = self.vendor_seen.get(vendor)
            if seen is None or now - seen > limits["vendor"]:
                reasons.append(f"{vendor} not reached recently")
        return reasons


SHOWN_PROBLEMS = 3
"""/readyz is polled by load balancers: a count and a few examples, never every user id."""


def _few(problems: Sequence[str], shown: int = SHOWN_PROBLEMS) -> str:
    if not problems:
        return "incomplete"
    head = "; ".join(problem[:200] for problem in problems[:shown])
    more = len(problems) - shown
    return f"{len(problems)} problems: {head}" + (f"; and {more} more" if more > 0 else "")
