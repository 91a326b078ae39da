"""The SCIM provisioner against the Atlassian emulator (in process): idempotent writes, read-backs.

Each write looks for what it would create first, so a repeat changes nothing; a group that
offboard did not provision is never written to; PATCH bodies say ``Operations``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.atlassian_scim.provisioning import ScimProvisioner
from offboard.adapters.atlassian_scim.provisioning_target import ProvisioningTarget
from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard.ports import ConflictError, PermanentError, VerifyingDirectory
from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed
from offboard_emulators.atlassian.app import EmulatorParts

EXAMPLE = Path(__file__).parents[3] / "src/offboard_emulators/atlassian/example_fixture.json"
ORG = "9a1ja8a1-1a4b-1c23-d4e5-f6a7b8c9d0e1"
PROFILE = (
    ("userName", "nina@example.com"), ("email", "nina@example.com"), ("givenName", "Nina"),
    ("familyName", "Neu"), ("displayName", "Nina Neu"),
)  # fmt: skip
GROUP = (("displayName", "platform"), ("externalId", "kc-group-1"))


def act(kind: ActionKind, attributes: tuple[tuple[str, str], ...], who: str = "kc-nina") -> Action:
    return Action(
        kind, IdentityId(who), AccountId(f"t:{who}"), None, Rule.JOINER, "test", attributes
    )


class Recording(httpx.AsyncBaseTransport):
    """The emulator app, remembering every request body sent to it."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app)  # type: ignore[arg-type]
        self.sent: list[tuple[str, str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.sent.append((request.method, request.url.path, body))
        return await self.inner.handle_async_request(request)


@pytest.fixture
def parts() -> EmulatorParts:
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    return EmulatorParts(state)


@pytest.fixture
async def wired(parts: EmulatorParts) -> AsyncIterator[tuple[ScimProvisioner, Recording]]:
    transport = Recording(create_app(parts=parts))
    async with AtlassianDirectory(
        org_id=ORG, org_key="emulator-org-key", base_url="https://api.atlassian.test",
        scim_directory_id="scim-dir-1", scim_key="emulator-scim-key", rate_per_second=500,
        burst=50, transport=transport,
    ) as directory:  # fmt: skip
        assert directory.scim is not None
        yield ScimProvisioner(directory.scim), transport


async def test_create_user_is_idempotent_and_reads_back(
    wired: tuple[ScimProvisioner, Recording],
) -> None:
    provisioner, transport = wired
    create = act(ActionKind.SCIM_CREATE_USER, PROFILE)
    assert (await provisioner.execute(create)).changed
    assert not (await provisioner.execute(create)).changed
    assert sum(1 for m, p, _ in transport.sent if m == "POST" and p.endswith("/Users")) == 1
    assert await provisioner.verify(create) == (True, await _described(provisioner))
    update = act(ActionKind.SCIM_UPDATE_USER, (("familyName", "Alt"), ("displayName", "Nina Alt")))
    assert (await provisioner.execute(update)).changed
    holds, detail = await provisioner.verify(update)
    assert holds, detail
    [patch] = [b for m, _, b in transport.sent if m == "PATCH"]
    assert json.loads(patch)["Operations"][0] == {
        "op": "replace", "path": "name.familyName", "value": "Alt",
    }  # fmt: skip


async def test_profile_attributes_are_sent_and_read_back(
    wired: tuple[ScimProvisioner, Recording],
) -> None:
    provisioner, transport = wired
    create = act(ActionKind.SCIM_CREATE_USER, (*PROFILE, ("title", "Engineer")))
    await provisioner.execute(create)
    assert (await provisioner.verify(create))[0]
    [post] = [b for m, p, b in transport.sent if m == "POST"]
    assert json.loads(post)["title"] == "Engineer"
    update = act(ActionKind.SCIM_UPDATE_USER, (("title", "Lead"), ("department", "R&D")))
    await provisioner.execute(update)
    assert (await provisioner.verify(update))[0]
    whole = await provisioner.read_all(frozenset())
    assert whole.users[-1].extra == (("department", "R&D"), ("title", "Lead"))


async def _described(provisioner: ScimProvisioner) -> str:
    return f"SCIM user {provisioner.user_ids['kc-nina']}, profile as planned"


async def test_group_and_memberships_follow_the_plan(
    wired: tuple[ScimProvisioner, Recording],
) -> None:
    provisioner, _ = wired
    await provisioner.execute(act(ActionKind.SCIM_CREATE_USER, PROFILE))
    create_group = act(ActionKind.SCIM_CREATE_GROUP, GROUP, "group:/platform")
    assert (await provisioner.execute(create_group)).changed
    assert not (await provisioner.execute(create_group)).changed
    add = act(ActionKind.SCIM_ADD_MEMBERS, (*GROUP, ("member", "kc-nina")), "group:/platform#0")
    assert (await provisioner.execute(add)).changed
    assert not (await provisioner.execute(add)).changed
    assert (await provisioner.verify(add))[0]
    remove = act(ActionKind.SCIM_REMOVE_MEMBERS, add.attributes, "group:/platform#0")
    assert (await provisioner.execute(remove)).changed
    assert (await provisioner.verify(remove))[0]
    assert not (await provisioner.verify(add))[0]


async def test_a_group_offboard_did_not_provision_is_never_written(
    wired: tuple[ScimProvisioner, Recording],
) -> None:
    provisioner, _ = wired
    foreign = (("displayName", "platform"), ("externalId", "okta-9"))
    await provisioner.execute(act(ActionKind.SCIM_CREATE_GROUP, foreign, "group:/x"))
    with pytest.raises(PermanentError, match="not offboard's"):
        await provisioner.execute(act(ActionKind.SCIM_CREATE_GROUP, GROUP, "group:/platform"))


async def test_the_directory_reads_users_and_groups_with_members(
    wired: tuple[ScimProvisioner, Recording],
) -> None:
    provisioner, _ = wired
    await provisioner.execute(act(ActionKind.SCIM_CREATE_USER, PROFILE))
    await provisioner.execute(act(ActionKind.SCIM_CREATE_GROUP, GROUP, "group:/platform"))
    await provisioner.execute(
        act(ActionKind.SCIM_ADD_MEMBERS, (*GROUP, ("member", "kc-nina")), "group:/platform#0")
    )
    whole = await provisioner.read_all(frozenset())
    nina = next(u for u in whole.users if u.external_id == "kc-nina")
    assert (nina.given_name, nina.family_name, nina.display_name) == ("Nina", "Neu", "Nina Neu")
    platform = next(g for g in whole.groups if g.display_name == "platform")
    assert platform.members == {nina.scim_id}
    targeted = await provisioner.read_targeted([("kc-nina", "nina@example.com")], ["platform"])
    assert [g.members for g in targeted.groups] == [frozenset({nina.scim_id})]
    assert isinstance(ProvisioningTarget(provisioner), VerifyingDirectory)


async def test_a_member_without_a_scim_user_is_left_out_and_the_read_back_says_so(
    wired: tuple[ScimProvisioner, Recording],
) -> None:
    provisioner, _ = wired
    await provisioner.execute(act(ActionKind.SCIM_CREATE_USER, PROFILE))
    await provisioner.execute(act(ActionKind.SCIM_CREATE_GROUP, GROUP, "group:/platform"))
    members = (*GROUP, ("member", "kc-nina"), ("member", "kc-never-created"))
    add = act(ActionKind.SCIM_ADD_MEMBERS, members, "group:/platform#0")
    result = await provisioner.execute(add)
    assert result.changed
    assert "1 without a SCIM user left out" in result.detail
    holds, _ = await provisioner.verify(add)
    assert not holds


async def test_scim_refusals_are_said_in_words_with_what_to_do(
    wired: tuple[ScimProvisioner, Recording],
) -> None:
    """A 409 ``uniqueness`` or a 400 ``invalidValue`` names the problem and the fix, not a
    raw JSON body; a 409 stays a conflict (a create's race is settled on it)."""
    provisioner, _ = wired
    await provisioner.execute(act(ActionKind.SCIM_CREATE_USER, PROFILE))
    other = tuple((k, "ola@example.com" if "@" in v else v) for k, v in PROFILE)
    await provisioner.execute(act(ActionKind.SCIM_CREATE_USER, other, who="kc-ola"))
    clash = act(ActionKind.SCIM_UPDATE_USER, (("userName", "nina@example.com"),), who="kc-ola")
    with pytest.raises(ConflictError) as conflict:
        await provisioner.execute(clash)
    words = str(conflict.value)
    assert "HTTP 409 uniqueness" in words, words
    assert "already exists" in words, words
    assert "free that address" in words, words
    assert "{" not in words, words
    unverified = tuple((k, "ivy@unverified.test" if "@" in v else v) for k, v in PROFILE)
    with pytest.raises(PermanentError) as refused:
        await provisioner.execute(act(ActionKind.SCIM_CREATE_USER, unverified, who="kc-ivy"))
    words = str(refused.value)
    assert "HTTP 400 invalidValue" in words, words
    assert "not verified" in words, words
    assert "verified in Atlassian" in words, words
    assert "{" not in words, words
