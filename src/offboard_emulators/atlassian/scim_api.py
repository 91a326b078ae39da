"""SCIM 2.0 API under ``/scim/directory/{directoryId}`` (reference §3)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.atlassian import errors, scim_patch, scim_state, scim_views
from offboard_emulators.atlassian.http_helpers import base_url
from offboard_emulators.atlassian.model import ScimDirectory, ScimUser
from offboard_emulators.atlassian.scim_state import ScimProblemError
from offboard_emulators.atlassian.state import AtlassianState, AuthError, NotFoundError

Handler = Callable[[Request, ScimDirectory, str], Awaitable[Response]]
_FILTER = re.compile(r'^\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_ALWAYS_RETURNED = {"id", "schemas", "meta"}


def scim_json(body: object, status: int = 200, location: str | None = None) -> JSONResponse:
    """A SCIM response (``application/scim+json``)."""
    headers = {"Location": location} if location else None
    return JSONResponse(
        body, status_code=status, media_type=errors.SCIM_MEDIA_TYPE, headers=headers
    )


def scim_endpoint(
    state: AtlassianState, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate with this directory's key and map failures to ScimError/Failure."""

    async def endpoint(request: Request) -> Response:
        directory_id = request.path_params["directoryId"]
        try:
            key = state.authenticate(request.headers.get("authorization"), "directory")
        except AuthError as error:
            return errors.scim_failure(401, error.message)
        if key.directory_id != directory_id:
            return errors.scim_failure(403, "The API key is not valid for this directory")
        org = state.orgs.get(key.org_id)
        directory = org.scim_directories.get(directory_id) if org else None
        if directory is None:
            return errors.scim_error(404, f"Directory {directory_id} does not exist")
        base = f"{base_url(request)}/scim/directory/{directory_id}"
        try:
            return await handler(request, directory, base)
        except ScimProblemError as problem:
            return errors.scim_error(problem.status, problem.detail, problem.scim_type)
        except NotFoundError as missing:
            return errors.scim_error(404, f"Resource {missing} not found")

    return endpoint


async def scim_body(request: Request) -> dict[str, Any]:
    """The JSON object body, else a 400 ``invalidSyntax``."""
    try:
        data = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ScimProblemError(400, "body is not valid JSON", "invalidSyntax") from error
    if not isinstance(data, dict):
        raise ScimProblemError(400, "body must be a JSON object", "invalidSyntax")
    return data


def parse_filter(raw: str | None, allowed: dict[str, str]) -> tuple[str, str] | None:
    """``(attribute, value)`` of a single ``eq`` filter on an allowed attribute."""
    if raw is None or not raw.strip():
        return None
    match = _FILTER.match(raw)
    attribute = allowed.get(match.group(1).lower()) if match else None
    if match is None or attribute is None:
        raise ScimProblemError(400, f"Unsupported filter: {raw}", "invalidFilter")
    return attribute, match.group(2).replace('\\"', '"')


def project(resource: dict[str, Any], request: Request) -> dict[str, Any]:
    """Apply ``attributes`` / ``excludedAttributes`` (top-level names)."""
    wanted = request.query_params.get("attributes")
    excluded = request.query_params.get("excludedAttributes")
    if wanted:
        names = {n.strip().split(".")[0].lower() for n in wanted.split(",")}
        return {k: v for k, v in resource.items() if k in _ALWAYS_RETURNED or k.lower() in names}
    if excluded:
        names = {n.strip().split(".")[0].lower() for n in excluded.split(",")}
        return {
            k: v for k, v in resource.items() if k in _ALWAYS_RETURNED or k.lower() not in names
        }
    return resource


def paged(
    request: Request, items: Iterable[Any], total: int, max_count: int
) -> tuple[list[Any], int]:
    """The window ``startIndex``/``count`` selects (count capped by the server)."""
    try:
        start = max(1, int(request.query_params.get("startIndex") or 1))
        count = int(request.query_params.get("count") or max_count)
    except ValueError as error:
        raise ScimProblemError(
            400, "startIndex and count must be integers", "invalidValue"
        ) from error
    count = max(0, min(count, max_count))
    return list(itertools.islice(items, start - 1, start - 1 + count)), start


def routes(state: AtlassianState) -> list[Route]:
    """The SCIM routes bound to ``state``."""

    def max_page(directory: ScimDirectory) -> int:
        return state.orgs[directory.org_id].settings.scim_max_page_size

    async def list_users(request: Request, directory: ScimDirectory, base: str) -> Response:
        chosen = parse_filter(
            request.query_params.get("filter"), {"username": "userName", "externalid": "externalId"}
        )
        with state.lock:
            users: Iterable[ScimUser] = directory.users.values()
            total = len(directory.users)
            if chosen is not None:
                attribute, value = chosen
                if attribute == "userName":
                    users = [u for u in users if u.user_name.lower() == value.lower()]
                else:
                    users = [u for u in users if u.external_id == value]
                total = len(users)
            window, start = paged(request, users, total, max_page(directory))
            resources = [
                project(scim_views.render_user(directory, u, base), request) for u in window
            ]
        return scim_json(scim_views.list_response(resources, total, start))

    async def create_user(request: Request, directory: ScimDirectory, base: str) -> Response:
        user = scim_state.create_user(state, directory, await scim_body(request))
        body = scim_views.render_user(directory, user, base)
        return scim_json(body, 201, body["meta"]["location"])

    async def get_user(request: Request, directory: ScimDirectory, base: str) -> Response:
        user = scim_state.user(directory, request.path_params["userId"])
        return scim_json(project(scim_views.render_user(directory, user, base), request))

    async def put_user(request: Request, directory: ScimDirectory, base: str) -> Response:
        body = await scim_body(request)
        user = scim_state.replace_user(state, directory, request.path_params["userId"], body)
        return scim_json(scim_views.render_user(directory, user, base))

    async def patch_user(request: Request, directory: ScimDirectory, base: str) -> Response:
        body = await scim_body(request)
        user = scim_state.user(directory, request.path_params["userId"])
        scim_patch.patch_user(state, directory, user, body)
        with state.lock:
            scim_state.index_user_name(directory, user)
        return scim_json(scim_views.render_user(directory, user, base))

    async def delete_user(request: Request, directory: ScimDirectory, base: str) -> Response:
        scim_state.delete_user(state, directory, request.path_params["userId"])
        return Response(status_code=204)

    async def list_groups(request: Request, directory: ScimDirectory, base: str) -> Response:
        chosen = parse_filter(request.query_params.get("filter"), {"displayname": "displayName"})
        with state.lock:
            groups = list(directory.groups.values())
            if chosen is not None:
                groups = [g for g in groups if g.display_name.lower() == chosen[1].lower()]
            window, start = paged(request, groups, len(groups), max_page(directory))
            resources = [
                project(scim_views.render_group(directory, g, base), request) for g in window
            ]
        return scim_json(scim_views.list_response(resources, len(groups), start))

    async def create_group(request: Request, directory: ScimDirectory, base: str) -> Response:
        group = scim_state.create_group(state, directory, await scim_body(request))
        body = scim_views.render_group(directory, group, base)
        return scim_json(body, 201, body["meta"]["location"])

    async def get_group(request: Request, directory: ScimDirectory, base: str) -> Response:
        group = scim_state.group(directory, request.path_params["groupId"])
        return scim_json(project(scim_views.render_group(directory, group, base), request))

    async def put_group(request: Request, directory: ScimDirectory, base: str) -> Response:
        body = await scim_body(request)
        group = scim_state.group(directory, request.path_params["groupId"])
        replacement = {
            "Operations": [
                {"op": "replace", "path": "displayName", "value": body.get("displayName")}
            ]
        }
        with state.lock:
            members = scim_state.member_ids(directory, body.get("members") or [])
            scim_patch.patch_group(state, directory, group, replacement)
            group.members = members
            group.external_id = body.get("externalId")
        return scim_json(scim_views.render_group(directory, group, base))

    async def patch_group(request: Request, directory: ScimDirectory, base: str) -> Response:
        body = await scim_body(request)
        group = scim_state.group(directory, request.path_params["groupId"])
        scim_patch.patch_group(state, directory, group, body)
        return scim_json(scim_views.render_group(directory, group, base))

    async def delete_group(request: Request, directory: ScimDirectory, base: str) -> Response:
        with state.lock:
            scim_state.group(directory, request.path_params["groupId"])
            del directory.groups[request.path_params["groupId"]]
        return Response(status_code=204)

    async def service_provider_config(
        request: Request, directory: ScimDirectory, base: str
    ) -> Response:
        return scim_json(scim_views.service_provider_config(base, max_page(directory)))

    async def resource_types(request: Request, directory: ScimDirectory, base: str) -> Response:
        found = scim_views.resource_types(base)
        name = request.path_params.get("name")
        if name is None:
            return scim_json(scim_views.list_response(list(found.values()), len(found), 1))
        if name not in found:
            raise NotFoundError(f"ResourceType {name}")
        return scim_json(found[name])

    async def schemas(request: Request, directory: ScimDirectory, base: str) -> Response:
        found = scim_views.schemas(base)
        urn = request.path_params.get("urn")
        if urn is None:
            return scim_json(scim_views.list_response(list(found.values()), len(found), 1))
        if urn not in found:
            raise NotFoundError(f"Schema {urn}")
        return scim_json(found[urn])

    base_path = "/scim/directory/{directoryId}"
    table: list[tuple[str, Handler, list[str]]] = [
        ("/Users", list_users, ["GET"]),
        ("/Users", create_user, ["POST"]),
        ("/Users/{userId}", get_user, ["GET"]),
        ("/Users/{userId}", put_user, ["PUT"]),
        ("/Users/{userId}", patch_user, ["PATCH"]),
        ("/Users/{userId}", delete_user, ["DELETE"]),
        ("/Groups", list_groups, ["GET"]),
        ("/Groups", create_group, ["POST"]),
        ("/Groups/{groupId}", get_group, ["GET"]),
        ("/Groups/{groupId}", put_group, ["PUT"]),
        ("/Groups/{groupId}", patch_group, ["PATCH"]),
        ("/Groups/{groupId}", delete_group, ["DELETE"]),
        ("/ServiceProviderConfig", service_provider_config, ["GET"]),
        ("/ResourceTypes", resource_types, ["GET"]),
        ("/ResourceTypes/{name}", resource_types, ["GET"]),
        ("/Schemas", schemas, ["GET"]),
        ("/Schemas/{urn}", schemas, ["GET"]),
    ]
    return [Route(base_path + suffix, scim_endpoint(state, h), methods=m) for suffix, h, m in table]
