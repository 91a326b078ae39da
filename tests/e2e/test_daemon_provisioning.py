"""The daemon with provisioning on, over real sockets: real Keycloak + the Atlassian emulator.

A joiner created in Keycloak appears in Atlassian's SCIM directory with their group within
seconds (admin events trigger the re-check), and a mover's SCIM membership follows.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import DOMAIN, Tenant, daemon_settings, eventually, running_daemon
from tests.e2e.provisioning_rig import SCIM_DIRECTORY, SCIM_KEY, group_members, scim_tenant
from tests.keycloak.fixture import KeycloakServer

pytestmark = [pytest.mark.e2e, pytest.mark.keycloak, pytest.mark.slow]


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    with scim_tenant() as running:
        yield running


@pytest.fixture
def created(keycloak_server: KeycloakServer) -> Iterator[list[str]]:
    """Admin paths of what the test created in the shared realm, deleted afterwards."""
    paths: list[str] = []
    yield paths
    for path in sorted(paths, key=lambda p: not p.startswith("users/")):
        keycloak_server.admin.request("DELETE", path)


async def test_a_joiner_and_a_mover_follow_within_seconds(
    keycloak_server: KeycloakServer, tenant: Tenant, tmp_path: Path, created: list[str]
) -> None:
    kc, tag = keycloak_server, uuid.uuid4().hex[:8]

    def group(name: str, parent: str | None = None) -> str:
        path = f"groups/{parent}/children" if parent else "groups"
        location = kc.admin.request("POST", path, json={"name": name}).headers["Location"]
        group_id = location.rstrip("/").rsplit("/", 1)[-1]
        if parent is None:
            created.append(f"groups/{group_id}")
        return group_id

    scope, root = f"p16d-scope-{tag}", f"p16d-{tag}"
    scope_id, root_id = group(scope), group(root)
    devs, ops = f"p16ddevs-{tag}", f"p16dops-{tag}"
    devs_id, ops_id = group(devs, root_id), group(ops, root_id)
    settings = daemon_settings(
        keycloak_url=kc.base_url, realm=kc.realm, client_id=kc.client_id,
        client_secret=kc.client_secret, tenant=tenant, store=tmp_path / "s.db", group=scope,
        extra={
            "atlassian": {"scim_directory_id": SCIM_DIRECTORY, "scim_api_key": SCIM_KEY},
            "provisioning": {"enabled": True, "group_prefixes": [f"/{root}"]},
        },
    )  # fmt: skip
    email = f"p16d{tag}@{DOMAIN}"
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=60)

        def join() -> str:
            user_id = kc.admin.create_user(f"p16d{tag}", email=email, first_name="P16d")
            created.append(f"users/{user_id}")
            for group_id in (scope_id, devs_id):
                kc.admin.request("PUT", f"users/{user_id}/groups/{group_id}")
            return user_id

        user_id = await asyncio.to_thread(join)
        await eventually(lambda: group_members(tenant, devs) == {email}, within=30)

        def move() -> None:
            kc.admin.request("DELETE", f"users/{user_id}/groups/{devs_id}")
            kc.admin.request("PUT", f"users/{user_id}/groups/{ops_id}")

        await asyncio.to_thread(move)
        await eventually(
            lambda: group_members(tenant, ops) == {email} and not group_members(tenant, devs),
            within=30,
        )
