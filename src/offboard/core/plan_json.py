"""The plan document (JSON, version 1): written for review, read back before apply.

Reading checks the version, recomputes the fingerprint (over the decisions) and the seal
(over every other byte of meaning: times, reasons, messages), so a corrupt, hand-edited or
newer document is refused with ``PlanFormatError`` instead of being applied. The format is
described in docs/reference/plan-json.md.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime
from typing import Any

from offboard.core.accounts import AccountId
from offboard.core.day_one import day_one_summary
from offboard.core.fingerprint import fingerprint_of
from offboard.core.identities import IdentityId
from offboard.core.links import Link
from offboard.core.plan import (
    PLAN_SCHEMA_VERSION,
    Action,
    Entry,
    EntryStatus,
    GuardName,
    GuardResult,
    Plan,
    Rule,
)
from offboard.core.policy import ActionKind
from offboard.core.printable import json_safe


class PlanFormatError(ValueError):
    """The document is not a plan this version of offboard can trust."""


def plan_summary(plan: Plan) -> dict[str, Any]:
    """Counts by kind and rule: what a reviewer reads first."""
    blocked = [e for e in plan.entries if e.status is EntryStatus.BLOCKED]
    skipped = [e for e in plan.entries if e.status is EntryStatus.SKIPPED]
    return {
        "is_blocked": plan.is_blocked,
        "actions": len(plan.actions),
        "deprovisioning": len(plan.deprovisioning),
        "blocked": len(blocked),
        "skipped": len(skipped),
        "actions_by_kind": dict(sorted(Counter(str(a.kind) for a in plan.actions).items())),
        "actions_by_rule": dict(sorted(Counter(str(a.rule) for a in plan.actions).items())),
        "blocked_by_rule": dict(sorted(Counter(str(e.rule) for e in blocked).items())),
        "skipped_by_rule": dict(sorted(Counter(str(e.rule) for e in skipped).items())),
        "facts": dict(sorted(plan.facts.items())),
        "day_one": day_one_summary(plan),
    }


def plan_to_json(plan: Plan) -> str:
    document = {
        "version": plan.version,
        "fingerprint": plan.fingerprint,
        "created_at": plan.created_at.isoformat(),
        "actions": [_action(a) for a in plan.actions],
        "blocked": [_entry(e) for e in plan.entries if e.status is EntryStatus.BLOCKED],
        "skipped": [_entry(e) for e in plan.entries if e.status is EntryStatus.SKIPPED],
        "guards": [_guard(g) for g in plan.guards],
        "link_updates": [_link(link) for link in plan.link_updates],
        "summary": plan_summary(plan),
    }
    document["seal"] = seal_of(document)
    return json_safe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def seal_of(document: dict[str, Any]) -> str:
    """SHA-256 over the whole document but its seal: what the fingerprint leaves out (the
    creation time, reasons, guard messages) cannot be edited unnoticed either."""
    body = {key: value for key, value in document.items() if key != "seal"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def plan_from_json(text: str) -> Plan:
    """Read a plan document back; raise PlanFormatError unless it is whole and untouched."""
    try:
        document = json.loads(text)
    except (ValueError, TypeError) as error:
        raise PlanFormatError(f"not a JSON plan document: {error}") from None
    except RecursionError:
        raise PlanFormatError("not a plan document: JSON nested too deeply to read") from None
    if not isinstance(document, dict):
        raise PlanFormatError("not a plan document: the top level is not an object")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PlanFormatError(f"not a plan document: bad version {version!r}")
    if version > PLAN_SCHEMA_VERSION:
        raise PlanFormatError(
            f"plan version {version} is newer than this offboard reads "
            f"({PLAN_SCHEMA_VERSION}); upgrade offboard or re-plan"
        )
    try:
        plan = _plan(document, version)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as error:
        raise PlanFormatError(f"corrupt plan document: {type(error).__name__}: {error}") from None
    if fingerprint_of(plan) != plan.fingerprint:
        raise PlanFormatError(
            "plan fingerprint does not match its contents: the document was changed "
            "after planning; re-plan instead of editing"
        )
    if document.get("seal") != seal_of(document):
        raise PlanFormatError(
            "plan seal does not match its contents: its time, reasons or messages were "
            "changed after planning (or an older offboard wrote it); re-plan instead of editing"
        )
    return plan


def _plan(document: dict[str, Any], version: int) -> Plan:
    entries = [*document["blocked"], *document["skipped"]]
    facts = document.get("summary", {}).get("facts", {})
    return Plan(
        created_at=_time(document["created_at"]),
        actions=tuple(_read_action(a) for a in document["actions"]),
        entries=tuple(_read_entry(e) for e in entries),
        guards=tuple(_read_guard(g) for g in document["guards"]),
        fingerprint=_text(document["fingerprint"]),
        link_updates=tuple(_read_link(link) for link in document["link_updates"]),
        version=version,
        facts={_text(k): _int(v) for k, v in facts.items()},
    )


def _action(action: Action) -> dict[str, Any]:
    return {
        "kind": str(action.kind),
        "keycloak_id": action.identity_id,
        "account_id": action.account_id,
        "email": action.email,
        "rule": str(action.rule),
        "reason": action.reason,
    } | ({"attributes": [list(pair) for pair in action.attributes]} if action.attributes else {})


def _entry(entry: Entry) -> dict[str, Any]:
    return {
        "status": str(entry.status),
        "rule": str(entry.rule),
        "keycloak_id": entry.identity_id,
        "account_id": entry.account_id,
        "email": entry.email,
        "reason": entry.reason,
    }


def _guard(guard: GuardResult) -> dict[str, Any]:
    return {
        "name": str(guard.name),
        "tripped": guard.tripped,
        "overridden": guard.overridden,
        "observed": guard.observed,
        "limit": guard.limit,
        "message": guard.message,
    }


def _link(link: Link) -> dict[str, Any]:
    return {
        "keycloak_id": link.identity_id,
        "account_id": link.account_id,
        "email": link.email,
        "linked_at": link.linked_at.isoformat(),
        "deactivated_by_offboard": link.deactivated_by_offboard,
        "deactivated_at": _iso(link.deactivated_at),
        "deactivation_kind": link.deactivation_kind,
        "leaving_since": _iso(link.leaving_since),
        **({"cut_off_by_hand": True} if link.cut_off_by_hand else {}),
        **({"linked_by_hand": True} if link.linked_by_hand else {}),
    }


def _read_action(raw: dict[str, Any]) -> Action:
    return Action(
        kind=ActionKind(raw["kind"]),
        identity_id=IdentityId(_text(raw["keycloak_id"])),
        account_id=AccountId(_text(raw["account_id"])),
        email=_optional_text(raw["email"]),
        rule=Rule(raw["rule"]),
        reason=_text(raw["reason"]),
        attributes=tuple((_text(k), _text(v)) for k, v in raw.get("attributes") or ()),
    )


def _read_entry(raw: dict[str, Any]) -> Entry:
    identity_id = _optional_text(raw["keycloak_id"])
    account_id = _optional_text(raw["account_id"])
    return Entry(
        status=EntryStatus(raw["status"]),
        rule=Rule(raw["rule"]),
        reason=_text(raw["reason"]),
        identity_id=IdentityId(identity_id) if identity_id is not None else None,
        account_id=AccountId(account_id) if account_id is not None else None,
        email=_optional_text(raw["email"]),
    )


def _read_guard(raw: dict[str, Any]) -> GuardResult:
    return GuardResult(
        name=GuardName(raw["name"]),
        tripped=_bool(raw["tripped"]),
        overridden=_bool(raw["overridden"]),
        message=_text(raw["message"]),
        observed=_number(raw["observed"]),
        limit=_number(raw["limit"]),
    )


def _read_link(raw: dict[str, Any]) -> Link:
    return Link(
        identity_id=IdentityId(_text(raw["keycloak_id"])),
        account_id=AccountId(_text(raw["account_id"])),
        email=_optional_text(raw["email"]),
        linked_at=_time(raw["linked_at"]),
        deactivated_by_offboard=_bool(raw["deactivated_by_offboard"]),
        deactivated_at=_optional_time(raw["deactivated_at"]),
        deactivation_kind=_optional_text(raw["deactivation_kind"]),
        leaving_since=_optional_time(raw["leaving_since"]),
        cut_off_by_hand=_bool(raw.get("cut_off_by_hand", False)),
        linked_by_hand=_bool(raw.get("linked_by_hand", False)),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, found {type(value).__name__}")
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, found {type(value).__name__}")
    return value


def _number(value: object) -> float | None:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    raise TypeError(f"expected a number, found {type(value).__name__}")


def _time(value: object) -> datetime:
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {value!r}")
    return moment


def _optional_time(value: object) -> datetime | None:
    return None if value is None else _time(value)
