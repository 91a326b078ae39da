"""Group trees from a seed file (nested `subGroups`, members by path) and the builder calls
the demo uses; the HTTP answers themselves are proven against the real server in
tests/contract/test_groups.py."""

from __future__ import annotations

import httpx
import pytest

from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.errors import KeycloakError
from offboard_emulators.keycloak.model import Group
from tests.emulators.keycloak.conftest import ADMIN

SEED = {
    "realm": "offboard-test",
    "groups": [{"name": "staff", "subGroups": [{"name": "eng", "subGroups": [{"name": "sre"}]}]}],
    "users": [
        {"username": "ann", "enabled": True, "groups": ["/staff/eng"]},
        {"username": "ben", "enabled": True, "groups": ["/staff", "/staff/eng/sre"]},
    ],
}


def test_nested_seed_groups_get_full_paths_and_direct_members() -> None:
    realm = EmulatorState.from_seed_json(SEED).realm
    staff, eng, sre = (realm.group_by_path(p) for p in ("/staff", "staff/eng", "/staff/eng/sre/"))
    assert staff is not None
    assert eng is not None
    assert sre is not None
    assert (eng.path, eng.parent_id, sre.parent_id) == ("/staff/eng", staff.id, eng.id)
    assert [u.username for u in realm.members(staff.id, None, None)] == ["ben"]
    assert [u.username for u in realm.members(eng.id, None, None)] == ["ann"]
    assert realm.groups.sub_count(staff.id) == 1


def test_a_seed_member_of_an_unknown_path_is_refused() -> None:
    bad = {**SEED, "users": [{"username": "cy", "groups": ["/staff/nope"]}]}
    with pytest.raises(KeyError, match="unknown group"):
        EmulatorState.from_seed_json(bad)


def test_membership_builder_joins_and_leaves() -> None:
    realm = EmulatorState.from_seed_json(SEED).realm
    ann, eng = realm.user_by_username("ann"), realm.group_by_path("/staff/eng")
    assert ann is not None
    assert eng is not None
    realm.set_membership(ann.id, eng.id, member=False)
    assert realm.members(eng.id, None, None) == []
    realm.set_membership(ann.id, eng.id, member=True)
    assert realm.members(eng.id, None, None) == [ann]
    with pytest.raises(KeycloakError):
        realm.set_membership(ann.id, "no-such-group", member=True)


def test_sibling_names_are_unique_but_cousins_may_share() -> None:
    realm = EmulatorState.from_seed_json(SEED).realm
    staff = realm.group_by_path("/staff")
    assert staff is not None
    realm.add_group(Group("g-1", "sre", parent_id=staff.id))  # /staff/sre next to /staff/eng/sre
    with pytest.raises(KeycloakError) as refused:
        realm.add_group(Group("g-2", "eng", parent_id=staff.id))
    assert refused.value.status == 409


async def test_search_shows_only_the_branch_that_leads_to_a_match(
    http: httpx.AsyncClient, state: EmulatorState, bearer: dict[str, str]
) -> None:
    staff = state.realm.group_by_path("/staff")
    assert staff is not None
    eng = state.realm.add_group(Group("g-eng", "eng", parent_id=staff.id))
    state.realm.add_group(Group("g-sre", "sre", parent_id=eng.id))
    state.realm.add_group(Group("g-ops", "ops", parent_id=staff.id))
    found = (await http.get(f"{ADMIN}/groups", params={"search": "SRE"}, headers=bearer)).json()
    assert [g["path"] for g in found] == ["/staff"]
    [branch] = found[0]["subGroups"]
    assert (branch["path"], branch["subGroupCount"]) == ("/staff/eng", 1)
    assert [g["path"] for g in branch["subGroups"]] == ["/staff/eng/sre"]
