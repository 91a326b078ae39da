"""Provisioning rig: the Atlassian emulator with a SCIM directory, and a wired Provisioning."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import SecretStr

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.atlassian_scim.provisioning import ScimProvisioner
from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from offboard.adapters.keycloak.people import PeopleReader
from offboard.core.guards import ProvisioningThresholds
from offboard.service.provisioning import Provisioning
from offboard_emulators.atlassian.app import EmulatorParts, create_app
from offboard_emulators.atlassian.fixture import seed
from offboard_emulators.atlassian.key_limit import PerKeyLimit
from offboard_emulators.atlassian.model import ScimDirectory
from offboard_emulators.atlassian.state import AtlassianState
from offboard_emulators.common.ratelimit import RateLimitConfig
from offboard_emulators.common.server import serve_in_thread
from tests.e2e.harness import DIRECTORY, DOMAIN, ORG_ID, ORG_KEY, OWNER_ID, Tenant

SCIM_DIRECTORY = "scim-e2e"
SCIM_KEY = "e2e-scim-key"


@contextlib.contextmanager
def scim_tenant(rate_limit: float | None = None) -> Iterator[Tenant]:
    """An org with a verified domain, one directory and an identity-provider SCIM directory.

    ``rate_limit``: requests per second each key may make in all (``PerKeyLimit``), to run a
    SCIM sync at Atlassian's pace; None leaves only the emulator's per-route limits."""
    state = AtlassianState()
    seed(
        state,
        {
            "orgs": [
                {
                    "id": ORG_ID,
                    "name": "E2E Corp",
                    "domains": [
                        {"id": "dom", "name": DOMAIN, "claim_status": "verified",
                         "claim_type": "dns"},
                    ],
                    "directories": [{"id": DIRECTORY, "name": "E2E directory"}],
                    "api_keys": [{"id": "key-admin", "secret": ORG_KEY,
                                  "owner_account_id": OWNER_ID}],
                    "scim_directories": [{"id": SCIM_DIRECTORY,
                                          "api_key": {"id": "key-scim", "secret": SCIM_KEY}}],
                    "accounts": [
                        {"account_id": OWNER_ID, "email": f"owner@{DOMAIN}",
                         "platform_roles": ["atlassian/org-admin"],
                         "directories": {DIRECTORY: "active"}},
                    ],
                }
            ]
        },
    )  # fmt: skip
    parts = EmulatorParts(state)
    app: Any = create_app(parts=parts)
    limit = None
    if rate_limit is not None:
        config = RateLimitConfig(capacity=max(1, int(rate_limit)), period_seconds=1)
        app = limit = PerKeyLimit(app, config)
    with serve_in_thread(app) as url:
        yield Tenant(state, parts, url, limit)


def scim_directory(tenant: Tenant) -> ScimDirectory:
    return tenant.state.org(ORG_ID).scim_directories[SCIM_DIRECTORY]


def scim_user_by_email(tenant: Tenant, email: str) -> Any:
    with tenant.state.lock:
        found = [u for u in scim_directory(tenant).users.values() if u.user_name == email]
    return found[0] if found else None


def group_members(tenant: Tenant, name: str) -> set[str]:
    """userNames of the SCIM group's members (empty when there is no such group)."""
    with tenant.state.lock:
        directory = scim_directory(tenant)
        for group in directory.groups.values():
            if group.display_name == name:
                return {directory.users[m].user_name for m in group.members}
    return set()


def atlassian_directory(tenant: Tenant) -> AtlassianDirectory:
    return AtlassianDirectory(
        org_id=ORG_ID, org_key=ORG_KEY, base_url=tenant.url, directory_id=DIRECTORY,
        scim_directory_id=SCIM_DIRECTORY, scim_key=SCIM_KEY, key_owner_account_id=OWNER_ID,
        rate_per_second=500, burst=50,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def provisioning(
    keycloak_url: str,
    realm: str,
    client_id: str,
    client_secret: str,
    tenant: Tenant,
    *,
    scope_group: str,
    prefixes: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    thresholds: ProvisioningThresholds | None = None,
) -> AsyncIterator[Provisioning]:
    """A Provisioning over Keycloak (scope: one group) and the tenant's SCIM directory."""
    scope = KeycloakScope(group_paths=(scope_group,))
    async with (
        KeycloakSource(
            keycloak_url, realm, client_id, SecretStr(client_secret), scope=scope
        ) as source,
        atlassian_directory(tenant) as directory,
    ):
        assert directory.scim is not None
        yield Provisioning(
            people=PeopleReader(source.reader, scope),
            provisioner=ScimProvisioner(directory.scim),
            directory=directory,
            groups=groups,
            group_prefixes=prefixes,
            thresholds=thresholds or ProvisioningThresholds(),
        )
