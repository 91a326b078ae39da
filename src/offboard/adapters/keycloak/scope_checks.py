"""Self-checks of the configured scope: each group path names a group, and the scope
attribute is one Keycloak keeps and shows to the service account.

A scope that matches nobody is not an error Keycloak reports: the listing is simply empty,
and every linked person would look as if they had left. These checks name the mistake
before a plan is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from urllib.parse import quote

from offboard.adapters.keycloak.requests import AccessDeniedError, AdminReader
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.wire import GROUP_TREES, USER_PROFILE, GroupTree
from offboard.ports import CheckResult, NotFoundError, OffboardError

Denied = Callable[[str, str, str], CheckResult]
"""``(check name, what may not be done, role)`` → the failing result naming the role."""

ADMIN_CAN_READ = ("ENABLED", "ADMIN_VIEW", "ADMIN_EDIT")
"""Unmanaged-attribute policies under which the admin API returns undeclared attributes."""


async def scope_checks(
    reader: AdminReader, scope: KeycloakScope, denied: Denied
) -> list[CheckResult]:
    """One result per scope group, or per scope attribute; none for the whole realm."""
    found = [await _group(reader, path, denied) for path in scope.group_paths]
    found += [await _attribute(reader, name, denied) for name in scope.attributes]
    return found


async def _group(reader: AdminReader, path: str, denied: Denied) -> CheckResult:
    name = f"group {path}"
    try:
        await reader.get(f"group-by-path/{quote(path.strip('/'), safe='/')}")
    except NotFoundError:
        # Keycloak looks the path up before it checks the caller: a 404 means no such group.
        return CheckResult(
            name, False, f"the realm has no group at path {path!r}", await _path_fix(reader, path)
        )
    except AccessDeniedError:
        # group-by-path checks that the caller may view the group: view-users, not query-groups.
        return denied(name, f"read the group {path}", "view-users")
    except OffboardError as error:
        return CheckResult(name, False, str(error))
    return CheckResult(name, True, "found (view-users)")


async def _path_fix(reader: AdminReader, path: str) -> str:
    """Name the groups the admin may have meant: same name, another parent or case."""
    wanted = path.strip("/").rsplit("/", 1)[-1]
    usage = (
        "keycloak.scope_groups takes full paths from the top, as Groups shows them, "
        "case-sensitive (e.g. /staff/eng)"
    )
    try:
        params: dict[str, str | int | bool] = {
            "search": wanted,
            "exact": False,
            "briefRepresentation": True,
            "max": 100,
        }
        trees = await reader.read("groups", GROUP_TREES, params)
    except OffboardError:
        return usage
    near = sorted({p for p in _paths(trees) if p.rsplit("/", 1)[-1].lower() == wanted.lower()})
    if not near:
        return f"{usage}; no group is named {wanted!r}"
    return f"did you mean {' or '.join(near)}? {usage}"


def _paths(trees: list[GroupTree]) -> Iterator[str]:
    for tree in trees:
        yield tree.path
        yield from _paths(tree.subGroups)


async def _attribute(reader: AdminReader, name: str, denied: Denied) -> CheckResult:
    check = f"attribute {name}"
    try:
        profile = await reader.read("users/profile", USER_PROFILE)
    except NotFoundError:
        return CheckResult(check, True, "no user profile to check (Keycloak before 24)")
    except AccessDeniedError:
        return denied(check, "read the realm's user profile", "view-users")
    except OffboardError as error:
        return CheckResult(check, False, str(error))
    declared: Mapping[str, tuple[list[str], list[str]]] = {
        a.name: (a.permissions.view, a.permissions.edit) for a in profile.attributes
    }
    if name in declared:
        view, edit = declared[name]
        if "admin" in view or "admin" in edit:
            return CheckResult(check, True, "declared in the user profile")
        return CheckResult(
            check,
            False,
            f"the user profile declares {name!r}, but admins may not view it: the service "
            "account would see nobody in scope",
            f"Realm settings → User profile → {name} → Permissions → Who can view: Admin",
        )
    if (profile.unmanagedAttributePolicy or "").upper() in ADMIN_CAN_READ:
        return CheckResult(check, True, "unmanaged attributes are kept and shown to admins")
    return CheckResult(
        check,
        False,
        f"the realm's user profile does not declare {name!r} and unmanaged attributes are "
        "off: Keycloak drops that attribute, so nobody would be in scope",
        f"Realm settings → User profile → Create attribute {name!r} (or Realm settings → "
        "General → Unmanaged attributes: Admin can view)",
    )
