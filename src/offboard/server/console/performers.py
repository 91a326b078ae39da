"""Each console act, as a call to the one service function the CLI calls for it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable

from offboard.core.budget import BudgetCategory
from offboard.core.holds import DEPROVISIONING
from offboard.core.identities import IdentityId
from offboard.core.operator_requests import OperatorRequest, RequestKind, RequestState
from offboard.executor.applying import PlanBlockedError
from offboard.ports import IdentityEvent, NoHoldError
from offboard.server.console.acts import OVERRIDE_FIELD, Form
from offboard.server.console.backend import ConsoleBackend
from offboard.service.acting import LeaderBusyError
from offboard.service.holds import release_category, release_hold
from offboard.service.links_admin import remove_link, resolve_identity, set_link
from offboard.service.operator import (
    Act,
    OperatorRefusedError,
    Prepared,
    Sides,
    guard_names,
    prepare_cutoff,
    prepare_lift,
)
from offboard.service.operator_requests import act_or_hand_over, settled, touched
from offboard.service.overriding import approve_override
from offboard.service.retrying import retry_action

_CATEGORIES = frozenset(c.value for c in BudgetCategory)


async def release(form: Form, act: Act, sides: Sides, backend: ConsoleBackend) -> str:
    """Release the hold the operator saw (its id is checked: never a newer one)."""
    category = form.get("category", DEPROVISIONING)
    if category not in _CATEGORIES:
        raise OperatorRefusedError(f"there is no hold category {category!r}")
    shown = form.get("hold_id", "")
    held = await asyncio.to_thread(sides.store.active_hold, category)
    if held is None:
        raise NoHoldError(f"no {category} hold is active: nothing to release")
    if shown != str(held.id):
        raise OperatorRefusedError(
            f"the active {category} hold is #{held.id}, not the one shown (#{shown}): look "
            "at it again before releasing"
        )
    if category != DEPROVISIONING:
        hold = await asyncio.to_thread(
            functools.partial(
                release_category,
                sides.store,
                category,
                clock=sides.clock,
                by=act.actor,
                reason=act.reason,
            )
        )
        return f"{category} hold #{hold.id} released; the next provisioning pass goes on."
    go = functools.partial(
        release_hold, store=sides.store, source=sides.source, directory=sides.directory,
        policy=sides.policy, clock=sides.clock, by=act.actor, reason=act.reason,
    )  # fmt: skip
    try:
        async with backend.acting() as preflight:
            report = await go(preflight=preflight)
    except LeaderBusyError:
        # Another process leads: the release is recorded and the leader re-plans the
        # people who waited at its next pass.
        report = await go(preflight=None)
        queued = _nudge(backend, report.hold.people, f"release-{report.hold.id}", sides)
        return (f"Hold #{report.hold.id} released. The leading daemon re-plans the "
                f"{len(report.hold.people)} people who waited from fresh reads"
                + (" now." if queued else " at its next pass."))  # fmt: skip
    done = sum(1 for _, run, _ in report.rechecks if run is not None and run.status == "applied")
    failed = [f"{p}: {problem}" for p, run, problem in report.rechecks if run is None]
    return (
        f"Hold #{report.hold.id} released; {len(report.rechecks)} people re-planned, "
        f"{done} acted on." + (" Not done: " + "; ".join(failed) if failed else "")
    )


def _nudge(backend: ConsoleBackend, people: Iterable[str], why: str, sides: Sides) -> bool:
    if backend.nudge is None:
        return False
    now = sides.clock.now()
    queued = [
        backend.nudge(IdentityEvent(IdentityId(p), f"console-{why}-{p}", now, "console"))
        for p in people
    ]
    return bool(queued) and all(queued)


async def link_set(form: Form, act: Act, sides: Sides, backend: ConsoleBackend) -> str:
    link = await set_link(_needed(form, "identity_id"), _needed(form, "account_id"), act, sides)
    return f"Keycloak user {link.identity_id} paired with account {link.account_id}."


async def link_remove(form: Form, act: Act, sides: Sides, backend: ConsoleBackend) -> str:
    account = form.get("account_id", "").strip() or None
    link = await remove_link(_needed(form, "identity_id"), account, act, sides)
    return f"Keycloak user {link.identity_id} and account {link.account_id} unpaired."


async def resolve(form: Form, act: Act, sides: Sides, backend: ConsoleBackend) -> str:
    link = await resolve_identity(_needed(form, "email"), _needed(form, "identity_id"), act,
                                  sides)  # fmt: skip
    _nudge(backend, [link.identity_id], "resolve", sides)
    return (f"The account {link.account_id} ({link.email}) is Keycloak user "
            f"{link.identity_id}'s; the others claiming it are left alone.")  # fmt: skip


async def retry(form: Form, act: Act, sides: Sides, backend: ConsoleBackend) -> str:
    """Re-plan the person of a failed action from fresh reads (``retry_action``)."""
    key = _needed(form, "action_key")
    try:
        async with backend.acting() as preflight:
            report = await retry_action(key, act, sides, preflight=preflight)
    except LeaderBusyError:
        report = await retry_action(key, act, sides, preflight=None)
        person = report.failed.action_key.split(":")[1]
        queued = _nudge(backend, [person], "retry", sides)
        return (
            f"Retry of {report.failed.action_key} journaled; the leading daemon re-plans "
            "this person from fresh reads" + (" now." if queued else " at its next pass.")
        )
    return report.words() + "."


async def override(form: Form, act: Act, sides: Sides, backend: ConsoleBackend) -> str:
    """Lift the blocking guards for the plan shown (``approve_override``)."""
    guards = guard_names(_needed(form, "guards").split(","))
    try:
        async with backend.acting() as preflight:
            report = await approve_override(_needed(form, "fingerprint"), guards, act, sides,
                                            preflight=preflight)  # fmt: skip
    except LeaderBusyError as error:
        raise OperatorRefusedError(f"{error}; nothing was applied") from None
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts.items()) if n)
    return f"Override approved for plan {report.fingerprint[:12]}: {counts or 'nothing sent'}."


async def cutoff(form: Form, act: Act, sides: Sides, backend: ConsoleBackend) -> str:
    """Cut one person off now, whatever Keycloak says (``prepare_cutoff``/``carry_out``)."""
    if form.get("confirm") != "yes":
        raise OperatorRefusedError("tick the box that names the person to confirm the cut-off")
    return await _one_person(RequestKind.CUTOFF, prepare_cutoff, form, act, sides, backend)


async def cutoff_lift(form: Form, act: Act, sides: Sides, backend: ConsoleBackend) -> str:
    """Give back what a cut-off took (``prepare_lift``/``carry_out``)."""
    return await _one_person(RequestKind.CUTOFF_LIFT, prepare_lift, form, act, sides, backend)


async def _one_person(
    kind: RequestKind,
    prepare: Callable[[str, Act, Sides], Awaitable[Prepared]],
    form: Form,
    act: Act,
    sides: Sides,
    backend: ConsoleBackend,
) -> str:
    """A one-person act as the CLI's ``cutoff`` does it: checked on fresh reads, carried out
    under this daemon's lease, or handed to the replica that leads."""
    person = _needed(form, "person")
    overrides = guard_names(form.get(OVERRIDE_FIELD, "").split(","))
    prepared = await prepare(person, act, sides)
    if prepared.refusal is not None:
        raise OperatorRefusedError(prepared.refusal)
    try:
        between_writes = functools.partial(backend.acting, (act.actor, touched(prepared)))
        done = await act_or_hand_over(
            prepared, person, act, sides, between_writes, backend.requests, overrides
        )
    except LeaderBusyError as error:
        raise OperatorRefusedError(f"{error}; nothing was done") from None
    except PlanBlockedError as error:
        raise OperatorRefusedError(f"{error}. {_lift_hint(person)}") from None
    if isinstance(done, OperatorRequest):
        return (
            f"{kind} of {person} handed to the leading daemon as request #{done.id}: it "
            "acts within seconds; `offboard cutoff requests` shows the outcome."
        )
    state, words = settled(done)
    if state is RequestState.BLOCKED:  # nothing was sent: not an outcome to show as done
        raise OperatorRefusedError(f"{kind} of {person} held back, {words}. {_lift_hint(person)}")
    return f"{kind} of {person}: {state}; {words}"


def _lift_hint(person: str) -> str:
    return (
        f'If it must happen anyway, name the guard under "Blocked by a guard?" in the form '
        f"on {person}'s page and submit again: the override is journaled with your name and "
        "reason."
    )


def _needed(form: Form, name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise OperatorRefusedError(f"{name.replace('_', ' ')} is required")
    return value
