"""The Keycloak side of provisioning against the Keycloak emulator (the demo's realm)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from pydantic import SecretStr

from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from offboard.adapters.keycloak.people import PeopleReader, PersonReader, is_selected
from offboard.cli.demo import CLIENT_SECRET, DOMAIN, REALM, build_emulators
from offboard.cli.demo_provisioning import add_teams_and_joiner, move_joiner
from offboard.core.identities import IdentityId
from offboard_emulators.keycloak.app import create_app

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SCOPE = KeycloakScope(group_paths=("/staff",))
TITLE = {"title": "jobTitle"}


def source(state: object) -> KeycloakSource:
    transport = httpx.ASGITransport(app=create_app(state))  # type: ignore[arg-type]
    return KeycloakSource(
        "http://kc.test", REALM, "offboard", SecretStr(CLIENT_SECRET), scope=SCOPE,
        transport=transport,
    )  # fmt: skip


async def test_scope_people_with_names_attributes_and_selected_groups() -> None:
    keycloak, _ = build_emulators(20)
    joiner = add_teams_and_joiner(keycloak, DOMAIN, "/staff")
    keycloak.realm.user(joiner).attributes["jobTitle"] = ["Engineer"]
    async with source(keycloak) as kc:
        people = await PeopleReader(kc.reader, SCOPE, attributes=TITLE).read((), ("/teams",), NOW)
    assert people.complete, people.problems
    assert [g.path for g in people.groups] == ["/teams/design", "/teams/jira-devs"]
    nora = next(p for p in people.people if p.id == joiner)
    assert (nora.first_name, nora.last_name, nora.display_name) == ("Nora", "New", "Nora New")
    assert nora.groups == {"/teams/jira-devs"}
    assert nora.extra == (("title", "Engineer"),)
    assert len(people.people) > 20  # the whole /staff scope, not just the selected groups


async def test_one_persons_view_reads_their_groups_and_those_they_left() -> None:
    keycloak, _ = build_emulators(20)
    joiner = add_teams_and_joiner(keycloak, DOMAIN, "/staff")
    devs = keycloak.realm.group_by_path("/teams/jira-devs")
    assert devs is not None
    move_joiner(keycloak, joiner)
    async with source(keycloak) as kc:
        view = await PersonReader(kc.reader, SCOPE, TITLE).read(
            IdentityId(joiner), (), ("/teams",), (devs.id,), NOW
        )
        gone = await PersonReader(kc.reader, SCOPE, TITLE).read(
            IdentityId("no-such-user"), (), ("/teams",), (), NOW
        )
    assert [p.groups for p in view.people] == [{"/teams/design"}]
    assert {g.path for g in view.groups} == {"/teams/design", "/teams/jira-devs"}
    assert gone.people == ()
    assert gone.complete


def test_prefixes_select_the_groups_below_not_the_container() -> None:
    assert is_selected("/teams/devs", (), ("/teams",))
    assert is_selected("/teams/a/b", (), ("/teams/",))
    assert not is_selected("/teams", (), ("/teams",))
    assert not is_selected("/teamsx/devs", (), ("/teams",))
    assert is_selected("/exact", ("/exact",), ())
