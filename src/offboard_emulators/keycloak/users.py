"""Admin API routes on users and brute-force status (groups are in `group_routes`), with
Keycloak's permission rules: an unknown user id is 404 to a caller who may query users and
403 to anyone else."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.errors import KeycloakError, forbidden
from offboard_emulators.keycloak.login import Principal
from offboard_emulators.keycloak.model import (
    MANAGE_USERS,
    QUERY_USERS,
    VIEW_USERS,
    AuthDetails,
    User,
    access_detail,
    access_summary,
)
from offboard_emulators.keycloak.queries import UserFilter, parse_bool, parse_int

Handler = Callable[[Request, EmulatorState], Awaitable[Response]]


def require(principal: Principal, role: str) -> None:
    """403 unless the caller holds the realm-management role (composites expanded)."""
    if role not in principal.roles:
        raise forbidden()


def user_representation(state: EmulatorState, user: User, brief: bool) -> dict[str, Any]:
    """A user as reads show it: lockouts and issue 40689 may turn ``enabled`` false."""
    enabled = state.realm.shown_enabled(user, state.logins.locked(user.id))
    return user.brief(enabled) if brief else user.full(enabled)


class RouteHandlers:
    """What every group of handlers needs: rendering, the caller, the page delay fault."""

    def __init__(
        self,
        render: Callable[..., Response],
        caller: Callable[[Request, EmulatorState], Principal],
        page_delay: Callable[[EmulatorState], Awaitable[None]],
    ) -> None:
        self.render = render
        self.caller = caller
        self.page_delay = page_delay


class UserRoutes(RouteHandlers):
    """The user and attack-detection handlers of one emulator."""

    def table(self, admin: str) -> list[tuple[str, Handler, list[str]]]:
        """(path, handler, methods) for the app's routing table."""
        return [
            (f"{admin}/users", self.users, ["GET", "POST"]),
            (f"{admin}/users/count", self.count, ["GET"]),
            (f"{admin}/users/{{id}}", self.user, ["GET", "PUT", "DELETE"]),
            (
                f"{admin}/attack-detection/brute-force/users/{{id}}",
                self.brute_force,
                ["GET", "DELETE"],
            ),
        ]

    # -- reads ------------------------------------------------------------------------------

    async def users(self, request: Request, state: EmulatorState) -> Response:
        """`GET users` (paged, filtered, by username) and `POST users` (create)."""
        principal = self.caller(request, state)
        if request.method == "POST":
            return await self._create(request, state, principal)
        require(principal, QUERY_USERS)
        params = request.query_params
        first, max_ = parse_int(params.get("first")), parse_int(params.get("max"))
        brief = bool(parse_bool(params.get("briefRepresentation")))
        await self.page_delay(state)
        found = state.realm.list_users(UserFilter.from_params(params), first, max_)
        manage = access_summary(MANAGE_USERS in principal.roles)
        body = [{**user_representation(state, user, brief), "access": manage} for user in found]
        self._delete_during_paging(state, found)
        return self.render(body)

    def _delete_during_paging(self, state: EmulatorState, served: list[User]) -> None:
        """The fault: someone deletes the first user of the page just served."""
        faults = state.realm.faults
        if faults.delete_during_paging <= 0 or not served:
            return
        faults.delete_during_paging -= 1
        victim = state.realm.remove_user(served[0].id)
        auth = AuthDetails(state.realm.settings.id, "fault-injection", "fault-injection")
        state.realm.record_admin_event(auth, "DELETE", f"users/{victim.id}", _deleted(victim))

    async def count(self, request: Request, state: EmulatorState) -> Response:
        """`GET users/count`."""
        require(self.caller(request, state), QUERY_USERS)
        return self.render(state.realm.count_users(UserFilter.from_params(request.query_params)))

    def _existing(self, state: EmulatorState, principal: Principal, user_id: str) -> User:
        """The user, or 404 (caller may query users) / 403 (caller may not)."""
        try:
            return state.realm.user(user_id)
        except KeycloakError:
            if QUERY_USERS in principal.roles:
                raise
            raise forbidden() from None

    async def user(self, request: Request, state: EmulatorState) -> Response:
        """`GET`, `PUT` and `DELETE users/{id}`."""
        principal = self.caller(request, state)
        user = self._existing(state, principal, request.path_params["id"])
        if request.method == "GET":
            require(principal, VIEW_USERS)
            access = access_detail(MANAGE_USERS in principal.roles)
            return self.render({**user_representation(state, user, brief=False), "access": access})
        require(principal, MANAGE_USERS)
        auth = self._auth(state, principal)
        if request.method == "DELETE":
            state.realm.remove_user(user.id)
            state.realm.record_admin_event(auth, "DELETE", f"users/{user.id}", _deleted(user))
            return Response(status_code=204)
        body = await request.json()
        _apply_update(user, body)
        state.realm.record_admin_event(auth, "UPDATE", f"users/{user.id}", body)
        return Response(status_code=204)

    async def _create(
        self, request: Request, state: EmulatorState, principal: Principal
    ) -> Response:
        require(principal, MANAGE_USERS)
        body = await request.json()
        username = str(body.get("username", "")).lower()
        if state.realm.user_by_username(username) is not None:
            raise KeycloakError(409, {"errorMessage": "User exists with same username"})
        user = User(id=str(uuid.uuid4()), username=username, created=state.realm.now_ms())
        _apply_update(user, body)
        if body.get("credentials"):
            user.password = body["credentials"][0].get("value")
        state.realm.add_user(user)
        auth = self._auth(state, principal)
        state.realm.record_admin_event(auth, "CREATE", f"users/{user.id}", body)
        location = f"{request.url}/{user.id}".replace("?" + request.url.query, "")
        return Response(status_code=201, headers={"Location": location})

    async def brute_force(self, request: Request, state: EmulatorState) -> Response:
        """`GET` (status; zeros for unknown ids, as the server does) and `DELETE` (clear)."""
        principal = self.caller(request, state)
        user_id = request.path_params["id"]
        if request.method == "DELETE":
            require(principal, MANAGE_USERS)
            state.logins.clear(user_id)
            return Response(status_code=204)
        require(principal, VIEW_USERS)
        return self.render(state.logins.status(user_id))

    @staticmethod
    def _auth(state: EmulatorState, principal: Principal) -> AuthDetails:
        return AuthDetails(state.realm.settings.id, principal.client.id, principal.user_id)


def _deleted(user: User) -> dict[str, str]:
    """What 26.7.3 stores as the representation of a DELETE event."""
    return {"id": user.id, "username": user.username}


def _apply_update(user: User, body: dict[str, Any]) -> None:
    """`PUT users/{id}` semantics: the fields present replace the stored ones."""
    for key, attribute in (
        ("email", "email"),
        ("firstName", "first_name"),
        ("lastName", "last_name"),
    ):
        if key in body:
            setattr(user, attribute, body[key])
    if "enabled" in body:
        user.enabled = bool(body["enabled"])
    if "emailVerified" in body:
        user.email_verified = bool(body["emailVerified"])
    if "attributes" in body and body["attributes"] is not None:
        user.attributes = {k: list(v) for k, v in body["attributes"].items()}
