"""Admin API routes on groups and memberships, as Keycloak 26.7.3 answers them.

A group lookup comes before the permission check on the real server: an unknown group is
404 even to a caller who may not see groups, a known one 403. Memberships are direct only:
a member of `/staff/eng` is not listed among the members of `/staff`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.errors import KeycloakError, bad_request, forbidden, not_found
from offboard_emulators.keycloak.login import Principal
from offboard_emulators.keycloak.model import (
    MANAGE_USERS,
    QUERY_GROUPS,
    QUERY_USERS,
    VIEW_USERS,
    AuthDetails,
    Group,
    User,
)
from offboard_emulators.keycloak.queries import DEFAULT_MAX, page, parse_bool, parse_int
from offboard_emulators.keycloak.users import RouteHandlers, require, user_representation

Handler = Callable[[Request, EmulatorState], Awaitable[Response]]


class GroupRoutes(RouteHandlers):
    """The group and membership handlers of one emulator."""

    def table(self, admin: str) -> list[tuple[str, Handler, list[str]]]:
        """(path, handler, methods) for the app's routing table."""
        return [
            (f"{admin}/groups", self.groups, ["GET", "POST"]),
            (f"{admin}/groups/{{group}}", self.group, ["GET"]),
            (f"{admin}/groups/{{group}}/children", self.add_child, ["POST"]),
            (f"{admin}/groups/{{group}}/children", self.children, ["GET"]),
            (f"{admin}/groups/{{group}}/members", self.members, ["GET"]),
            (f"{admin}/group-by-path/{{path:path}}", self.by_path, ["GET"]),
            (f"{admin}/users/{{id}}/groups", self.user_groups, ["GET"]),
            (f"{admin}/users/{{id}}/groups/{{group}}", self.membership, ["PUT", "DELETE"]),
        ]

    # -- groups -----------------------------------------------------------------------------

    async def groups(self, request: Request, state: EmulatorState) -> Response:
        """`GET groups` (top level by name; `search` also opens the way to matching
        subgroups) and `POST groups` (a new top-level group)."""
        principal = self.caller(request, state)
        if request.method == "POST":
            return await self._create(request, state, principal, None)
        require(principal, QUERY_GROUPS)
        params = request.query_params
        first, max_ = parse_int(params.get("first")), parse_int(params.get("max"))
        brief = parse_bool(params.get("briefRepresentation")) is not False
        search, exact = params.get("search"), bool(parse_bool(params.get("exact")))
        with state.realm.lock:
            found = state.realm.groups.search(search, exact)
            shown = [found[i] for i in page(found, first, max_, DEFAULT_MAX)]
            manage = MANAGE_USERS in principal.roles
            body = [self._tree(state, g, search, exact, manage, brief) for g in shown]
        return self.render(body)

    def _tree(
        self,
        state: EmulatorState,
        group: Group,
        search: str | None,
        exact: bool,
        manage: bool,
        brief: bool,
    ) -> dict[str, Any]:
        """A listed group; under a search, with the subgroups that lead to a match."""
        tree = state.realm.groups
        subs = []
        if search is not None:
            subs = [
                self._tree(state, child, search, exact, manage, brief)
                for child in tree.children(group.id)
                if tree.leads_to_match(child, search, exact)
            ]
        return group.listed(manage, tree.sub_count(group.id), subs, brief)

    async def group(self, request: Request, state: EmulatorState) -> Response:
        """`GET groups/{group}`: full, with the caller's `access`."""
        group = self._group(state, request.path_params["group"])
        principal = self.caller(request, state)
        require(principal, VIEW_USERS)
        count = state.realm.groups.sub_count(group.id)
        return self.render(group.listed(MANAGE_USERS in principal.roles, count, brief=False))

    async def children(self, request: Request, state: EmulatorState) -> Response:
        """`GET groups/{group}/children`: the direct subgroups, paged (Keycloak 23+); the
        group must be viewable first, so `query-groups` alone is refused (403)."""
        group = self._group(state, request.path_params["group"])
        principal = self.caller(request, state)
        require(principal, VIEW_USERS)
        params = request.query_params
        first, max_ = parse_int(params.get("first")), parse_int(params.get("max"))
        brief = parse_bool(params.get("briefRepresentation")) is not False
        tree = state.realm.groups
        with state.realm.lock:
            found = list(tree.children(group.id))
            shown = [found[i] for i in page(found, first, max_, DEFAULT_MAX)]
            manage = MANAGE_USERS in principal.roles
            body = [g.listed(manage, tree.sub_count(g.id), [], brief) for g in shown]
        return self.render(body)

    async def add_child(self, request: Request, state: EmulatorState) -> Response:
        """`POST groups/{group}/children`: a new subgroup."""
        parent = self._group(state, request.path_params["group"])
        return await self._create(request, state, self.caller(request, state), parent)

    async def by_path(self, request: Request, state: EmulatorState) -> Response:
        """`GET group-by-path/{path}`: full, children counted, no `access`."""
        group = state.realm.group_by_path(request.path_params["path"])
        if group is None:
            raise not_found("Group path does not exist")
        require(self.caller(request, state), VIEW_USERS)
        return self.render(group.by_path(state.realm.groups.sub_count(group.id)))

    async def members(self, request: Request, state: EmulatorState) -> Response:
        """`GET groups/{group}/members`: direct members by username, 100 a page by default,
        full unless `briefRepresentation=true`, no `access` field."""
        group = self._group(state, request.path_params["group"])
        require(self.caller(request, state), VIEW_USERS)
        params = request.query_params
        first, max_ = parse_int(params.get("first")), parse_int(params.get("max"))
        brief = bool(parse_bool(params.get("briefRepresentation")))
        await self.page_delay(state)
        found = state.realm.members(group.id, first, max_)
        return self.render([user_representation(state, user, brief) for user in found])

    async def _create(
        self, request: Request, state: EmulatorState, principal: Principal, parent: Group | None
    ) -> Response:
        require(principal, MANAGE_USERS)
        body = await request.json()
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("Group name is missing")
        parent_id = parent.id if parent else None
        group = Group(str(uuid.uuid4()), name, parent_id=parent_id)
        state.realm.add_group(group)
        if parent is None:
            rep = {"id": group.id, "name": group.name, "subGroups": []}
            state.realm.record_admin_event(
                _auth(state, principal), "CREATE", f"groups/{group.id}", rep, resource_type="GROUP"
            )
        location = str(request.url.replace(query="")).rstrip("/")
        location = location.removesuffix("/children").rsplit("/groups", 1)[0]
        return Response(status_code=201, headers={"Location": f"{location}/groups/{group.id}"})

    # -- memberships ------------------------------------------------------------------------

    async def user_groups(self, request: Request, state: EmulatorState) -> Response:
        """`GET users/{id}/groups`: direct groups by name, brief by default, `search` on the
        name, `first`/`max` unlimited by default."""
        principal = self.caller(request, state)
        user = _existing(state, principal, request.path_params["id"])
        require(principal, VIEW_USERS)
        params = request.query_params
        first, max_ = parse_int(params.get("first")), parse_int(params.get("max"))
        brief = parse_bool(params.get("briefRepresentation")) is not False
        search = (params.get("search") or "").lower()
        with state.realm.lock:
            groups = [state.realm.groups[g] for g in user.groups if g in state.realm.groups]
        groups = sorted((g for g in groups if search in g.name.lower()), key=lambda g: g.name)
        shown = [groups[i] for i in page(groups, first, max_, None)]
        return self.render([group.membership(brief) for group in shown])

    async def membership(self, request: Request, state: EmulatorState) -> Response:
        """`PUT` (join) or `DELETE` (leave) `users/{id}/groups/{group}`; both idempotent,
        each recorded as a GROUP_MEMBERSHIP admin event."""
        principal = self.caller(request, state)
        user = _existing(state, principal, request.path_params["id"])
        require(principal, MANAGE_USERS)
        joining = request.method == "PUT"
        group = state.realm.set_membership(user.id, request.path_params["group"], joining)
        state.realm.record_admin_event(
            _auth(state, principal),
            "CREATE" if joining else "DELETE",
            f"users/{user.id}/groups/{group.id}",
            group.membership(brief=False),
            resource_type="GROUP_MEMBERSHIP",
        )
        return Response(status_code=204)

    @staticmethod
    def _group(state: EmulatorState, group_id: str) -> Group:
        group = state.realm.groups.get(group_id)
        if group is None:
            raise not_found("Could not find group by id")
        return group


def _existing(state: EmulatorState, principal: Principal, user_id: str) -> User:
    """The user, or 404 (caller may query users) / 403 (caller may not)."""
    try:
        return state.realm.user(user_id)
    except KeycloakError:
        if QUERY_USERS in principal.roles:
            raise
        raise forbidden() from None


def _auth(state: EmulatorState, principal: Principal) -> AuthDetails:
    return AuthDetails(state.realm.settings.id, principal.client.id, principal.user_id)
