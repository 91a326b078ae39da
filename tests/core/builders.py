"""Small builders for core test data: people numbered 1, 2, 3... on the domain acme.test.

``person(n)`` gives identity ``kc-000n``, account ``acc-000n`` and email
``user{n}@acme.test``; every builder takes keyword overrides for the field under test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from offboard.core.accounts import Account, AccountId
from offboard.core.identities import Identity, IdentityId, Lockout
from offboard.core.links import Link
from offboard.core.plan import Action, Entry, Plan
from offboard.core.planning import PlanContext, plan
from offboard.core.policy import Policy, Thresholds
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
DOMAIN = "acme.test"
REALM_URL = "https://sso.acme.test/admin/realms/acme"


def iid(n: int) -> IdentityId:
    return IdentityId(f"kc-{n:04d}")


def aid(n: int) -> AccountId:
    return AccountId(f"acc-{n:04d}")


def email(n: int, domain: str = DOMAIN) -> str:
    return f"user{n}@{domain}"


def identity(n: int, **changes: Any) -> Identity:
    """An enabled, unlocked person; ``disabled=True`` gives a confirmed disable."""
    disabled = changes.pop("disabled", False)
    base = Identity(
        id=iid(n),
        username=f"user{n}",
        email=email(n),
        enabled=not disabled,
        lockout=Lockout.NONE,
        disable_confirmed=disabled,
    )
    return replace(base, **changes)


def account(n: int, **changes: Any) -> Account:
    """An active managed account."""
    return replace(Account(id=aid(n), email=email(n), name=f"User {n}"), **changes)


def link(n: int, **changes: Any) -> Link:
    base = Link(iid(n), aid(n), email(n), linked_at=NOW - timedelta(days=30))
    return replace(base, **changes)


def deactivated_link(n: int, kind: str = "deactivate", days_ago: int = 1, **changes: Any) -> Link:
    return link(
        n,
        deactivated_by_offboard=True,
        deactivated_at=NOW - timedelta(days=days_ago),
        deactivation_kind=kind,
        **changes,
    )


def source(*identities: Identity, **changes: Any) -> SourceSnapshot:
    base = SourceSnapshot(identities=tuple(identities), taken_at=NOW, complete=True)
    return replace(base, source=REALM_URL, **changes)


def targeted(*identities: Identity, ids: Iterable[IdentityId], **changes: Any) -> SourceSnapshot:
    return source(*identities, kind=SnapshotKind.TARGETED, targeted_ids=frozenset(ids), **changes)


def target(*accounts: Account, **changes: Any) -> TargetSnapshot:
    base = TargetSnapshot(
        accounts=tuple(accounts),
        taken_at=NOW,
        complete=True,
        verified_domains=frozenset({DOMAIN}),
        key_owner_account_id="acc-key-owner",
    )
    return replace(base, **changes)


def policy(**changes: Any) -> Policy:
    """The default policy with thresholds loose enough not to trip in small tests."""
    changes.setdefault("thresholds", Thresholds(max_deactivations=1000, min_population=1000))
    return Policy(**changes)


def people(*numbers: int) -> tuple[list[Identity], list[Account], list[Link]]:
    """Linked, enabled people with active accounts."""
    return (
        [identity(n) for n in numbers],
        [account(n) for n in numbers],
        [link(n) for n in numbers],
    )


def make_plan(
    src: SourceSnapshot,
    tgt: TargetSnapshot,
    links: Iterable[Link] = (),
    pol: Policy | None = None,
    **context: Any,
) -> Plan:
    context.setdefault("now", NOW)
    return plan(src, tgt, list(links), pol or policy(), PlanContext(**context))


def only_action(result: Plan) -> Action:
    """The plan's one action (and no entries)."""
    assert len(result.actions) == 1, result.actions
    assert not result.entries, result.entries
    return result.actions[0]


def only_entry(result: Plan) -> Entry:
    """The plan's one entry (and no actions)."""
    assert not result.actions, result.actions
    assert len(result.entries) == 1, result.entries
    return result.entries[0]
