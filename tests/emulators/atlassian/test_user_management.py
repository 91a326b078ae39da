"""User management API: permissions map, profile, lifecycle and its edge cases (§2.4-2.5)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from offboard_emulators.atlassian import AtlassianState
from offboard_emulators.atlassian.state import OffsetClock
from tests.emulators.atlassian.conftest import (
    ADMIN,
    EXPIRED_KEY,
    GOOGLE,
    LEAVER,
    ORG,
    ORG_KEY,
    OWNER,
    SCOPED_KEY,
    SYNCED,
    UNMANAGED,
)


def manage(account_id: str, action: str = "") -> str:
    return f"/users/{account_id}/manage{action}"


async def test_disable_accepts_no_body_empty_object_or_message(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    disable = manage(LEAVER, "/lifecycle/disable")
    enable = manage(LEAVER, "/lifecycle/enable")
    for body in (None, {}, {"message": "Left on 2026-11-28 (offboard rule leaver)"}):
        response = await client.post(disable, json=body, headers=ORG_KEY)
        assert response.status_code == 204
        assert tenant.accounts[LEAVER].account_status == "inactive"
        assert (await client.post(enable, headers=ORG_KEY)).status_code == 204
        assert tenant.accounts[LEAVER].account_status == "active"
    await client.post(disable, json={"message": "bye"}, headers=ORG_KEY)
    assert tenant.accounts[LEAVER].disable_message == "bye"
    bad = await client.post(disable, content=b"{", headers=ORG_KEY)
    assert bad.json() == {"key": "bodyParseFailure"}


async def test_disable_is_idempotent_unless_the_org_asks_for_409(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    disable = manage(LEAVER, "/lifecycle/disable")
    assert (await client.post(disable, headers=ORG_KEY)).status_code == 204
    assert (await client.post(disable, headers=ORG_KEY)).status_code == 204
    tenant.orgs[ORG].settings.disable_inactive_conflict = True
    again = await client.post(disable, headers=ORG_KEY)
    assert again.status_code == 409
    assert again.json()["key"] == "conflict.lifecycleErrors"
    assert again.json()["context"]["accountId"] == LEAVER


@pytest.mark.parametrize(
    ("account_id", "status", "body"),
    [
        (UNMANAGED, 403, {"key": "forbidden.targetUnverified"}),
        (
            GOOGLE,
            403,
            {
                "key": "forbidden.action",
                "context": {"allowed": False, "reason": {"key": "externalDirectory.google"}},
            },
        ),
        (
            ADMIN,
            403,
            {
                "key": "forbidden.action",
                "context": {"allowed": False, "reason": {"key": "administrative.notMyself"}},
            },
        ),
        ("no-such-account", 404, {"key": "accountNotFound"}),
    ],
)
async def test_disable_refusals(
    client: httpx.AsyncClient, account_id: str, status: int, body: dict[str, object]
) -> None:
    response = await client.post(manage(account_id, "/lifecycle/disable"), headers=ORG_KEY)
    assert response.status_code == status
    assert response.json() == body


async def test_site_owner_conflict_and_other_org_forbidden(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    conflict = await client.post(manage(OWNER, "/lifecycle/disable"), headers=ORG_KEY)
    assert conflict.status_code == 409
    assert conflict.json()["context"]["errorCodes"][0]["code"]
    tenant.add_org("other", "Other org")
    tenant.accounts[LEAVER].org_id = "other"
    foreign = await client.post(manage(LEAVER, "/lifecycle/disable"), headers=ORG_KEY)
    assert foreign.json() == {"key": "forbidden"}


async def test_scim_restriction_is_configurable(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    allowed = await client.get(
        manage(SYNCED), params={"privileges": "lifecycle.enablement"}, headers=ORG_KEY
    )
    assert allowed.json() == {"lifecycle.enablement": {"allowed": True}}
    tenant.orgs[ORG].settings.scim_lifecycle_restricted = True
    refused = await client.post(manage(SYNCED, "/lifecycle/disable"), headers=ORG_KEY)
    assert refused.json()["context"]["reason"]["key"] == "externalDirectory.scim"


async def test_keys_scoped_expired_unknown(client: httpx.AsyncClient) -> None:
    scoped = await client.post(manage(LEAVER, "/lifecycle/disable"), headers=SCOPED_KEY, json={})
    assert scoped.status_code == 403
    assert scoped.json() == {"key": "forbidden"}
    for headers in (EXPIRED_KEY, {"Authorization": "Bearer nope"}):
        response = await client.post(manage(LEAVER, "/lifecycle/disable"), headers=headers)
        assert response.status_code == 401
        assert response.json() == {"key": "unauthorized"}


async def test_permissions_map_shapes(client: httpx.AsyncClient) -> None:
    every = (await client.get(manage(GOOGLE), headers=ORG_KEY)).json()
    assert every["lifecycle.enablement"] == {
        "allowed": False,
        "reason": {"key": "externalDirectory.google"},
    }
    assert every["profile.read"] == {"allowed": True}
    assert every["profile.write"]["extended_profile.job_title"] == {"allowed": True}
    two = await client.get(
        manage(LEAVER),
        params=[("privileges", "lifecycle.delete"), ("privileges", "email.set")],
        headers=ORG_KEY,
    )
    assert set(two.json()) == {"lifecycle.delete", "email.set"}
    unmanaged = await client.get(manage(UNMANAGED), headers=ORG_KEY)
    assert unmanaged.status_code == 403


async def test_profile(client: httpx.AsyncClient) -> None:
    account = (await client.get(manage(LEAVER, "/profile"), headers=ORG_KEY)).json()["account"]
    assert account["account_id"] == LEAVER
    assert account["email"] == "leaver@example.com"
    assert account["nickname"] == "leaver"


async def test_delete_window_cancel_and_closing_after_14_days(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    deleted = await client.post(manage(LEAVER, "/lifecycle/delete"), headers=ORG_KEY)
    assert deleted.status_code == 200
    assert deleted.json() == {"message": "Success"}
    assert tenant.accounts[LEAVER].account_status == "inactive"
    blocked = await client.post(manage(LEAVER, "/lifecycle/enable"), headers=ORG_KEY)
    assert blocked.status_code == 409
    cancelled = await client.post(manage(LEAVER, "/lifecycle/cancel-delete"), headers=ORG_KEY)
    assert cancelled.json() == {"message": "Success"}
    assert tenant.accounts[LEAVER].account_status == "active"
    await client.post(manage(LEAVER, "/lifecycle/delete"), headers=ORG_KEY)
    assert isinstance(tenant.clock, OffsetClock)
    tenant.clock.offset = timedelta(days=14, seconds=1)
    closed = await client.get(manage(LEAVER, "/profile"), headers=ORG_KEY)
    assert closed.status_code == 404
    assert tenant.accounts[LEAVER].account_status == "closed"
    owner = await client.post(manage(OWNER, "/lifecycle/delete"), headers=ORG_KEY)
    assert owner.status_code == 409
