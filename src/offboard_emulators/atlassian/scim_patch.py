"""SCIM PATCH (reference §3.5): ``Operations`` or ``operations``; add, replace, remove.

Deactivation arrives as ``{"op": "replace", "path": "active", "value": false}`` or as
``{"op": "replace", "value": {"active": false}}``; both are handled.
"""

from __future__ import annotations

import re
from typing import Any

from offboard_emulators.atlassian.model import ScimDirectory, ScimGroup, ScimUser
from offboard_emulators.atlassian.scim_state import (
    ScimProblemError,
    capped,
    check_user_name,
    member_ids,
    primary_email,
    sync_account,
)
from offboard_emulators.atlassian.state import AtlassianState

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_MEMBER_FILTER = re.compile(r'^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$', re.IGNORECASE)
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ATLASSIAN_EXTERNAL = "urn:scim:schemas:extension:atlassian-external:1.0"
_EXTENSIONS = (ENTERPRISE_USER, ATLASSIAN_EXTERNAL)


def operations(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The operation list, under either spelling, each checked for shape."""
    ops = payload.get("Operations", payload.get("operations"))
    if not isinstance(ops, list) or not ops:
        raise ScimProblemError(400, "Operations must be a non-empty list", "invalidSyntax")
    for op in ops:
        if not isinstance(op, dict) or str(op.get("op", "")).lower() not in (
            "add",
            "replace",
            "remove",
        ):
            raise ScimProblemError(
                400, "each operation needs op add/replace/remove", "invalidSyntax"
            )
    return ops


def _apply(document: dict[str, Any], path: str, value: Any, kind: str) -> None:
    """Apply one operation at a simple path (maybe URN-qualified); filters are refused."""
    if "[" in path:
        raise ScimProblemError(400, f"unsupported path {path}", "invalidPath")
    if path.startswith(CORE_USER + ":"):
        path = path.removeprefix(CORE_USER + ":")
    for urn in _EXTENSIONS:
        if path == urn and kind == "remove":
            document.pop(urn, None)
            return
        if path == urn:
            if not isinstance(value, dict):
                raise ScimProblemError(400, f"{urn} needs an object value", "invalidValue")
            for name, item in value.items():
                _apply(document, f"{urn}:{name}", item, kind)
            return
        if path.startswith(urn + ":"):
            target = document.setdefault(urn, {})
            _set(target, path.removeprefix(urn + ":").split("."), value, kind)
            return
    _set(document, path.split("."), value, kind)


def _set(target: dict[str, Any], names: list[str], value: Any, op: str) -> None:
    for name in names[:-1]:
        child = target.setdefault(name, {})
        if not isinstance(child, dict):
            raise ScimProblemError(400, f"{name} is not complex", "invalidPath")
        target = child
    last = names[-1]
    if op == "remove":
        target.pop(last, None)
    elif op == "add" and isinstance(target.get(last), list) and isinstance(value, list):
        target[last] = [*target[last], *value]
    else:
        target[last] = value


def patch_user(
    state: AtlassianState, directory: ScimDirectory, record: ScimUser, payload: dict[str, Any]
) -> ScimUser:
    """Apply the operations to a user, then sync its linked account. A userName another
    record holds is refused (409) before anything changes."""
    with state.lock:
        document: dict[str, Any] = {
            **record.attributes,
            "userName": record.user_name,
            "externalId": record.external_id,
            "active": record.active,
        }
        for op in operations(payload):
            kind = str(op["op"]).lower()
            path = op.get("path")
            if path is None:
                if kind == "remove" or not isinstance(op.get("value"), dict):
                    raise ScimProblemError(
                        400, "a path-less operation needs an object value", "noTarget"
                    )
                for name, value in op["value"].items():
                    _apply(document, name, value, kind)
                continue
            _apply(document, str(path), op.get("value"), kind)
        if document.get("userName"):
            check_user_name(directory, document["userName"], record.scim_id)
        _apply_user_document(record, document)
        record.last_modified = state.clock()
        sync_account(state, record)
        return record


def _apply_user_document(record: ScimUser, document: dict[str, Any]) -> None:
    user_name = document.pop("userName", None)
    if not isinstance(user_name, str) or not user_name:
        raise ScimProblemError(400, "userName cannot be removed", "mutability")
    active = document.pop("active", True)
    if not isinstance(active, bool):
        active = str(active).lower() != "false"
    external_id = document.pop("externalId", None)
    primary_email(document)
    record.user_name = user_name
    record.active = active
    record.external_id = external_id if isinstance(external_id, str) else None
    record.attributes = {k: v for k, v in document.items() if v is not None}


def patch_group(
    state: AtlassianState, directory: ScimDirectory, record: ScimGroup, payload: dict[str, Any]
) -> ScimGroup:
    """Membership changes (``members`` add/remove/replace) and ``displayName`` replace."""
    with state.lock:
        members = list(record.members)
        name = record.display_name
        external_id = record.external_id
        for op in operations(payload):
            kind = str(op["op"]).lower()
            path = str(op.get("path") or "")
            value = op.get("value")
            filtered = _MEMBER_FILTER.match(path)
            if filtered and kind == "remove":
                members = [m for m in members if m != filtered.group(1)]
            elif path == "members" and kind == "remove":
                gone = set(member_ids(directory, value)) if value else set(members)
                members = [m for m in members if m not in gone]
            elif path == "members":
                added = member_ids(directory, value)
                present = set(members)
                members = (
                    added if kind == "replace" else members + [m for m in added if m not in present]
                )
            elif path == "externalId":
                external_id = None if kind == "remove" else _text(value, "externalId")
            elif path in ("displayName", "") and kind == "replace":
                new_name = value.get("displayName") if isinstance(value, dict) else value
                if not isinstance(new_name, str) or not new_name:
                    raise ScimProblemError(400, "displayName must be a string", "invalidValue")
                name = new_name
            else:
                raise ScimProblemError(
                    400, f"unsupported group operation {kind} {path}", "invalidPath"
                )
        record.members = capped(state, directory, members)
        record.display_name = name
        record.external_id = external_id
        record.last_modified = state.clock()
        return record


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ScimProblemError(400, f"{name} must be a string", "invalidValue")
    return value
