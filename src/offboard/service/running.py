"""The daemon: event-driven re-checks for speed, periodic full reconciliation for truth.

Three root tasks run side by side until ``stop`` is set:

* the lease loop takes and renews the leader lease; only the leader acts;
* the poller reads Keycloak admin events and queues them per person; people whose events
  arrive together are re-checked together, as one wave (``intake.waves``);
* the reconciler runs a full pass when it becomes leader and then every interval.

Webhooks feed the same queues through :meth:`Daemon.submit`. On shutdown the daemon
stops intake, lets the passes in flight finish (each action is journaled before and after, so
one cut short by the grace timeout is settled at the next start), and releases the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from offboard.core.identities import IdentityId
from offboard.intake.polling import Cursors, EventPoller, EventSource
from offboard.intake.waves import Wave, WaveOutcome, WaveQueues
from offboard.ports import EVERYONE, Clock, IdentityEvent
from offboard.service.gate import PassGate
from offboard.service.intake_health import IntakeHealth
from offboard.service.leasing import Lease
from offboard.service.licence_schedule import DailyLicenceCheck
from offboard.service.notifying import Notifications
from offboard.service.operator_requests import HandedActs
from offboard.service.outages import FailureStreak, describe
from offboard.service.passes import Passes, PassReport
from offboard.service.pruning import StorePruning
from offboard.service.status import STORE, DaemonStatus

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """Intervals and bounds (seconds unless typed otherwise); filled from settings."""

    poll_interval: float = 2.0
    reconcile_interval: float = 900.0
    lease_ttl: timedelta = timedelta(seconds=30)
    wave_linger: float = 0.3
    """After an event, how long to wait for the rest of its burst before planning the wave."""
    wave_max_people: int = 500
    concurrency: int = 4
    """Waves handled at once (one person is never in two at once)."""
    shutdown_grace: float = 20.0
    max_backlog: int = 5000
    everyone_gap: float = 60.0
    """Least time between the starts of two full passes asked for by changes that name no
    one (a scope group renamed...): a tool renaming groups every few seconds must not keep
    the daemon in back-to-back full passes. Later ones wait, and are merged into one."""

    def __post_init__(self) -> None:
        # A zero interval spins; a zero lease expires as it is taken. Settings refuse these
        # with a clear message first; this guards code that builds a config by hand.
        if self.poll_interval <= 0 or self.reconcile_interval <= 0:
            raise ValueError("poll_interval and reconcile_interval must be longer than zero")
        if self.lease_ttl <= timedelta(0):
            raise ValueError("lease_ttl must be longer than zero")


class Daemon:
    """Runs the passes on time and on events while this replica holds the lease."""

    def __init__(
        self,
        passes: Passes,
        source: EventSource,
        store: Cursors,
        clock: Clock,
        status: DaemonStatus,
        lease: Lease,
        config: DaemonConfig = DaemonConfig(),
        daily: DailyLicenceCheck | None = None,
        notifications: Notifications | None = None,
        handed: HandedActs | None = None,
        gate: PassGate | None = None,
        intake: IntakeHealth | None = None,
        pruning: StorePruning | None = None,
    ) -> None:
        self.passes = passes
        self.pruning = pruning
        """Forgets what is past ``store.retention``, on the leader (``service.pruning``)."""
        self.intake = intake
        """Asked after each full pass whether the realm still saves the polled events."""
        self.daily = daily
        self.notifications = notifications
        self.handed = handed
        """Operator acts the command line handed to the leader (``offboard cutoff``)."""
        self.clock = clock
        self.status = status
        self.lease = lease
        self.config = config
        self._leader_gained = asyncio.Event()
        self.queues = WaveQueues(
            self._wave,
            linger=config.wave_linger,
            max_wave=config.wave_max_people,
            concurrency=config.concurrency,
            max_backlog=config.max_backlog,
            on_overflow=self._leader_gained.set,  # wakes the reconciler: a full pass now
            now=clock.now,
        )
        self.poller = EventPoller(source, store, self.submit, clock)
        self.poll_failures = FailureStreak(
            "event poll",
            "retried at every poll: check that Keycloak and the store answer (/readyz names "
            "what is not reached); a change missed meanwhile is caught by the next full "
            "reconciliation",
        )
        self._gate = gate or PassGate()
        """Shared with the passes (a full pass makes room in it for operator acts)."""
        self._stopping = asyncio.Event()
        self._poll_now = asyncio.Event()
        self._lease_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lease")
        """Made again at each :meth:`run` (its threads start when first used)."""
        self._everyone_asked = False
        """An EVERYONE hint woke the reconciler (its pass may wait out ``everyone_gap``)."""
        self._last_full_start: float | None = None
        self._first_seen: dict[str, datetime] = {}
        self._first_full = asyncio.Event()
        """Set once a full pass ran: re-checks wait for it after start, so that a wave that
        arrived while no daemon was running is judged as one plan (and its guards) first."""

    @property
    def gate(self) -> PassGate:
        """Held exclusively by a full pass; an operator act in this process holds it too."""
        return self._gate

    @property
    def accepting(self) -> bool:
        """True while this replica takes events (it is the leader and not stopping)."""
        return self.lease.held and not self._stopping.is_set()

    def submit(self, event: IdentityEvent) -> bool:
        """Queue a re-check hint; False when this replica is not acting (standby, stopping)."""
        if not self.accepting:
            return False
        if event.identity_id == EVERYONE:
            # A change that names no one it affects: the full pass, now, is the re-check.
            log.warning("a change moved people without naming them; full reconciliation now",
                        kind=event.kind)  # fmt: skip
            self._everyone_asked = True
            self._leader_gained.set()
            return True
        return self.queues.submit(event)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then shut down gracefully."""
        self._lease_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lease")
        roots = [
            asyncio.create_task(self._lease_loop(), name="lease"),
            asyncio.create_task(self._poll_loop(), name="poller"),
            asyncio.create_task(self._reconcile_loop(), name="reconciler"),
        ]
        if self.daily is not None:
            leader = lambda: self.lease.held  # noqa: E731
            daily = self.daily.run(self._stopping, leader, self._gate)
            roots.append(asyncio.create_task(daily, name="licences"))
        if self.notifications is not None:
            told = self.notifications.run(self._stopping, lambda: self.lease.held)
            roots.append(asyncio.create_task(told, name="notifications"))
        if self.handed is not None:
            handed = self.handed.run(self._stopping, self._gate)
            roots.append(asyncio.create_task(handed, name="operator-requests"))
        if self.pruning is not None:
            pruned = self.pruning.run(self._stopping, lambda: self.lease.held)
            roots.append(asyncio.create_task(pruned, name="retention"))
        try:
            await stop.wait()
        finally:
            await self._shut_down(roots)

    async def _shut_down(self, roots: list[asyncio.Task[None]]) -> None:
        log.info(
            "daemon stopping",
            what="no new events (webhooks get 503); the passes in flight finish, then the "
            "lease is released",
            grace_seconds=self.config.shutdown_grace,
        )
        self._stopping.set()
        work = asyncio.gather(*roots, self.queues.close(drain=True), return_exceptions=True)
        try:
            await asyncio.wait_for(work, self.config.shutdown_grace)
        except TimeoutError:
            log.warning("shutdown grace exceeded; unfinished actions are settled at next start")
        self._lease_thread.shutdown(wait=False)
        leading = self.lease.held
        self.lease.release()
        self.status.set_leader(False)
        log.info("daemon stopped", lease="released" if leading else "not held")

    async def _lease_loop(self) -> None:
        while not self._stopping.is_set():
            was_held, was_fence = self.lease.held, self.lease.fence
            # Off the loop (a hung store stalls no listener), on a thread of its own (the
            # shared pool, busy with journal writes or a slow mail server, never delays it).
            answer = await asyncio.get_running_loop().run_in_executor(
                self._lease_thread, self.lease.ask
            )
            held = self.lease.settle(answer)
            self.status.vendor_reachable(STORE, self.lease.answered, self.clock.now())
            if held != was_held:
                self.status.set_leader(held)
            if held and self.lease.fence != was_fence:
                # Taken, or taken back under a new fence after expiring unrenewed (a pause
                # past the ttl): the passes in flight under the old fence are refused at
                # their next write, so a full pass now does what they would have.
                self._leader_gained.set()
                self._poll_now.set()  # the poller need not wait out its interval
            await self._pause(self.lease.renew_every)

    async def _poll_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            started = loop.time()
            self._poll_now.clear()
            if self.lease.held:
                await self.poll_once()
            # A fixed rate, not a fixed gap: a slow poll does not push the next one back.
            wait = max(self.config.poll_interval - (loop.time() - started), 0.0)
            await self._pause(wait, self._poll_now)

    async def poll_once(self) -> None:
        """One poll of the admin events; a failure is logged and retried at the next tick."""
        try:
            result = await self.poller.poll_once()
        except Exception as error:
            self.poll_failures.failed(error)
            self.status.vendor_reachable("keycloak", False, self.clock.now())
            return
        self.poll_failures.succeeded()
        self.status.record_poll(self.clock.now(), result.lag_seconds)
        if result.queued:
            log.info("events queued", received=result.received, queued=result.queued)

    async def _reconcile_loop(self) -> None:
        while not self._stopping.is_set():
            if self.lease.held:
                await self._wait_out_everyone_gap()
                self._leader_gained.clear()
                self._everyone_asked = False
                self._last_full_start = asyncio.get_running_loop().time()
                await self.reconcile_once()
                if self.intake is not None:
                    await self.intake.refresh()
                await self._pause(self.config.reconcile_interval, self._leader_gained)
            else:
                await self._pause(self.lease.renew_every, self._leader_gained)

    async def _wait_out_everyone_gap(self) -> None:
        """A pass asked for by an EVERYONE hint starts at least ``everyone_gap`` after the
        previous one started (leadership, an overflow and the timer never wait)."""
        if not self._everyone_asked or self._last_full_start is None:
            return
        since = asyncio.get_running_loop().time() - self._last_full_start
        if since < self.config.everyone_gap:
            await self._pause(self.config.everyone_gap - since)

    async def reconcile_once(self) -> PassReport:
        """One full reconciliation, alone (re-checks wait), reported and recorded."""
        async with self._gate.exclusive():
            started = self.clock.now()
            try:
                report = await self.passes.full()
            except Exception as error:
                log.error("reconciliation failed", error=describe(error))
                report = _failed("full", started, self.clock.now(), error)
            finally:
                self._first_full.set()
        if report.complete and not report.blocked_guards:
            self.queues.ledger.reread_everyone(started)  # older events need no re-check
        await self._record(report, "full", {})
        return report

    async def _wave(self, wave: Wave) -> WaveOutcome:
        """Re-check everyone of a wave in one targeted plan. Settled: read and planned
        unblocked (their older events are covered); retry: could not be read."""
        people = list(wave)
        for identity_id, events in wave.items():
            earliest = min(event.occurred_at for event in events)
            seen = self._first_seen.setdefault(identity_id, earliest)
            self._first_seen[identity_id] = min(seen, earliest)
        if not self.lease.held:
            return WaveOutcome()  # a standby never acts; the leader's own intake covers them
        await self._pause(self.config.reconcile_interval, self._first_full)
        if self._stopping.is_set() and not self._first_full.is_set():
            return WaveOutcome()  # stopped before any full pass: the next start judges it
        async with self._gate.shared():
            started = self.clock.now()
            try:
                report = await self.passes.wave(people)
            except Exception as error:
                log.warning("wave failed", people=len(people), error=describe(error))
                failed = _failed("wave", started, self.clock.now(), error)
                report = dataclasses.replace(failed, unread=dict.fromkeys(people, "failed"))
        hints = {str(i): self._first_seen[i] for i in people if i in self._first_seen}
        # One person keeps the old scope (their id: a later passing re-check clears their
        # blocked entry); a larger wave's entry goes once its people are done or released.
        scope = people[0] if len(people) == 1 else f"wave of {len(people)} from {people[0]}"
        await self._record(report, scope, hints)
        retry = frozenset(IdentityId(i) for i in report.unread)
        for person, why in report.unread.items():
            log.warning("person not read in a wave; retried", identity_id=person, why=why)
        if not report.complete or report.blocked_guards:
            return WaveOutcome(retry=retry)
        settled = frozenset(people) - retry
        for identity_id in settled:
            self._first_seen.pop(identity_id, None)
        return WaveOutcome(settled=settled, retry=retry)

    async def _record(self, report: PassReport, scope: str, hints: dict[str, datetime]) -> None:
        self.status.record_pass(report, scope)
        await self._read_guards()
        held = sum(1 for action in report.actions if action.outcome == "held")
        if held:
            log.warning("deprovisioning held", scope=scope, held=held)
        for guard in report.plan.blocked_by if report.plan else ():
            why = guard.message[:MAX_SAID]
            log.warning("plan blocked by guard", scope=scope, guard=guard.name.value, why=why)
        if not report.complete:
            log.warning(
                "pass incomplete",
                kind=report.kind,
                scope=scope,
                problems=_first(report.problems),
                what_to_do="nothing is acted on that an incomplete read could make wrong; "
                "the next pass tries again; /readyz and the console list the problems",
            )
        for action in report.actions:
            if not (action.deprovisioning and action.confirmed and action.identity_id):
                continue
            first = hints.get(action.identity_id) or self._first_seen.pop(
                action.identity_id, report.started_at
            )
            self.status.record_latency(max((action.at - first).total_seconds(), 0.0))
        log.info(
            "pass finished",
            kind=report.kind,
            scope=scope,
            complete=report.complete,
            actions=len(report.actions),
            seconds=round(report.duration, 3),
        )

    async def _read_guards(self) -> None:
        """The hold and budget after each pass, for the status page and the metrics."""
        try:
            await asyncio.to_thread(self.status.refresh_guards)
        except Exception as error:  # the status page must not stop the daemon
            log.warning("could not read the hold", error=describe(error))

    async def _pause(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        """Sleep up to ``seconds``; return early on stop (or on ``wake``)."""
        waiters = [asyncio.ensure_future(self._stopping.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter


SHOWN = 3
MAX_SAID = 400


def _first(problems: tuple[str, ...]) -> list[str]:
    """A few problems, each cut short, and how many more: a log line, not a report."""
    shown = [problem[:MAX_SAID] for problem in problems[:SHOWN]]
    more = len(problems) - SHOWN
    return [*shown, f"and {more} more"] if more > 0 else shown


def _failed(kind: str, started: datetime, finished: datetime, error: Exception) -> PassReport:
    return PassReport(kind, started, finished, complete=False, problems=(describe(error),))
