"""Keycloak webhooks (Phase Two ``keycloak-events`` HTTP sender): signature, parsing, replays.

A webhook is only ever a hint that one user may have changed. It is accepted when its
``X-Keycloak-Signature`` is the hex HMAC-SHA256 of the raw body under the shared secret, and it
then triggers a re-check of that one user; it never decides anything by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from offboard.adapters.keycloak.admin_hints import hints_from_admin
from offboard.adapters.keycloak.wire import AdminEventRep
from offboard.core.identities import IdentityId
from offboard.ports import EVERYONE, IdentityEvent

SIGNATURE_HEADER = "X-Keycloak-Signature"
MAX_DELIVERY_ID_LENGTH = 128
"""Phase Two uids are UUIDs or similar; a longer one is refused, never kept in memory."""
DEFAULT_WINDOW = timedelta(minutes=15)
"""A delivery dated further than this from now (either way) is refused: a capture replayed
later, or a sender whose clock is far off. Replay memory only needs to span this window."""
_PREFIX = "sha256="
_USER_PATH = "users/"
_RELEVANT_ADMIN_OPERATIONS = frozenset({"UPDATE", "DELETE", "ACTION"})
_OTHER_ADMIN_RESOURCES = frozenset(
    {"GROUP_MEMBERSHIP", "ORGANIZATION_MEMBERSHIP", "ORGANIZATION", "REALM", "GROUP"}
)
_RELEVANT_ACCESS_TYPES = frozenset(
    {"DELETE_ACCOUNT", "UPDATE_PROFILE", "USER_DISABLED_BY_PERMANENT_LOCKOUT"}
)


class MalformedWebhookError(ValueError):
    """The body is not a JSON object of the documented shape."""


def sign(body: bytes, secret: bytes) -> str:
    """The hex HMAC-SHA256 of the body, as the sender puts it in the header."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: bytes) -> bool:
    """True when the header holds the body's HMAC-SHA256 (hex, optional ``sha256=`` prefix).

    Compared in constant time; an empty secret never verifies anything.
    """
    if not header or not secret:
        return False
    given = header.strip()
    if given.lower().startswith(_PREFIX):
        given = given[len(_PREFIX) :]
    expected = sign(body, secret)
    return hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii", "replace"))


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One parsed delivery: its id (for replay detection) and the hint it carries, if any."""

    delivery_id: str
    event: IdentityEvent | None
    """None when the delivery is valid but not about a user we care about."""
    occurred_at: datetime
    realm_id: str | None = None
    """The ``realmId`` the delivery names: one sender may serve every realm."""


def parse_webhook(body: bytes, *, group_scope: bool = False) -> WebhookDelivery:
    """Parse a Phase Two event body; raises :class:`MalformedWebhookError` if unexpected.

    ``group_scope``: whether a group deleted or renamed can take people out of scope."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise MalformedWebhookError("body is not JSON") from error
    if not isinstance(payload, dict):
        raise MalformedWebhookError("body is not a JSON object")
    delivery_id = _text(payload, "uid") or _text(payload, "id")
    kind = _text(payload, "type")
    if not delivery_id or not kind:
        raise MalformedWebhookError("body has no uid or type")
    if len(delivery_id) > MAX_DELIVERY_ID_LENGTH:
        raise MalformedWebhookError(f"uid is longer than {MAX_DELIVERY_ID_LENGTH} characters")
    occurred_at = _time(payload.get("time"))
    realm_id = _text(payload, "realmId")
    identity_id = _identity_of(kind, payload, group_scope)
    if identity_id is None:
        return WebhookDelivery(delivery_id, None, occurred_at, realm_id)
    if len(identity_id) > MAX_DELIVERY_ID_LENGTH:
        raise MalformedWebhookError("the user id is too long")
    event = IdentityEvent(
        identity_id=IdentityId(identity_id),
        event_id=delivery_id,
        occurred_at=occurred_at,
        kind=f"webhook:{kind}{_enabled_mark(payload)}",
    )
    return WebhookDelivery(delivery_id, event, occurred_at, realm_id)


def _enabled_mark(payload: dict[str, object]) -> str:
    """``:enabled=false`` when an update's representation shows the user disabled (a likely
    departure, re-checked first); the re-check reads Keycloak, so this only orders work."""
    representation = payload.get("representation")
    if not isinstance(representation, str) or len(representation) > 65_536:
        return ""
    try:
        user = json.loads(representation)
    except (json.JSONDecodeError, RecursionError):
        return ""
    enabled = user.get("enabled") if isinstance(user, dict) else None
    return f":enabled={str(enabled).lower()}" if isinstance(enabled, bool) else ""


def _identity_of(kind: str, payload: dict[str, object], group_scope: bool) -> str | None:
    family, _, name = kind.partition(".")
    if family == "admin":
        resource, _, operation = name.rpartition("-")
        path = _text(payload, "resourcePath") or ""
        if resource == "USER":
            if operation not in _RELEVANT_ADMIN_OPERATIONS:
                return None  # a CREATE: a joiner, linked by the next reconciliation
        elif resource not in _OTHER_ADMIN_RESOURCES:
            return None
        # The poller's reading of the same event (organization removals, partial imports,
        # scope groups deleted, SCIM paths); a change naming no one is EVERYONE.
        # A USER ACTION (e.g. a credential reset) is read as an update: the same user hint.
        seen_as = "UPDATE" if resource == "USER" else operation
        event = AdminEventRep(time=0, operationType=seen_as, resourceType=resource,
                              resourcePath=path)  # fmt: skip
        hints = [hint.identity_id for hint in hints_from_admin(event, group_scope=group_scope)]
        if resource == "USER":
            # A USER delivery naming no user is ignored here (the poller, reading Keycloak's
            # own store, answers the same event with a full pass): a signed body is not
            # enough to start one.
            return next((hint for hint in hints if hint != EVERYONE), None)
        return EVERYONE if EVERYONE in hints else next(iter(hints), None)
    if family == "access" and name in _RELEVANT_ACCESS_TYPES:
        return _text(payload, "userId")
    return None


def _text(payload: dict[str, object], key: str) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise MalformedWebhookError(f"{key} is not a string")
    return str(value)


def _time(value: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedWebhookError("time is not epoch milliseconds")
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise MalformedWebhookError("time is out of range") from error


def within_window(occurred_at: datetime, now: datetime, window: timedelta) -> bool:
    """Whether a delivery's own time is close enough to now to be taken (either direction)."""
    return abs(now - occurred_at) <= window


class ReplayMemory(Protocol):
    """Remembers delivery ids: in memory (:class:`ReplayFilter`) or in the store."""

    def first_time(self, delivery_id: str) -> bool: ...

    def forget(self, delivery_id: str) -> None: ...


class ReplayFilter:
    """Remembers the last ``capacity`` delivery ids, so a repeated delivery is ignored."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def first_time(self, delivery_id: str) -> bool:
        """True the first time an id is offered; False for a replay."""
        if delivery_id in self._seen:
            self._seen.move_to_end(delivery_id)
            return False
        self._seen[delivery_id] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True

    def forget(self, delivery_id: str) -> None:
        """Drop an id, e.g. when its delivery was refused and will be retried."""
        self._seen.pop(delivery_id, None)
