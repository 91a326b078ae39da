"""Link acts and deciding an ambiguous identity from the console: the CLI's service functions,
journaled with the operator and the reason; refusals are readable outcomes."""

from __future__ import annotations

import re

import httpx

from offboard.cli.demo import DOMAIN, person
from tests.server.console.conftest import ADA, TOKEN, VIC, Console


async def acted(client: httpx.AsyncClient, path: str, **fields: str) -> str:
    response = await client.post(path, data={"csrf_token": TOKEN, **fields})
    assert response.status_code == 303, response.text
    return (await client.get(response.headers["location"])).text


async def test_an_ambiguous_email_is_shown_and_decided(console: Console) -> None:
    shared = f"shared@{DOMAIN}"
    one = console.world.keycloak_user("shared.one").id  # type: ignore[attr-defined]
    async with console.client(ADA) as client:
        page = (await client.get("/")).text
        items = re.findall(r"<section[^>]*data-kind='blocked-person'.*?</section>", page, re.S)
        ambiguous = [i for i in items if "ambiguous-identities" in i]
        assert ambiguous, page
        assert any("data-testid='resolve-identity'" in i for i in ambiguous)
        outcome = await acted(client, "/act/resolve", email=shared, identity_id=one,
                              reason="HR: the account is shared.one's")  # fmt: skip
    assert "data-ok='true'" in outcome, outcome
    links = console.store.links(identity_ids=[one])
    assert len(links) == 1
    assert links[0].linked_by_hand
    journaled = [r for r in console.store.journal(identity_id=one) if r.kind == "link"]
    assert journaled[-1].reason == "by console:ada (sub sub-ada): HR: the account is shared.one's"


async def test_a_link_is_removed_and_set_again_by_hand(console: Console) -> None:
    name = person(12)
    console.world.disable(name)  # else the next plan would pair them again: refused below
    user_id = console.world.keycloak_user(name).id  # type: ignore[attr-defined]
    (link,) = console.store.links(identity_ids=[user_id])
    async with console.client(ADA) as client:
        detail = (await client.get("/person", params={"id": user_id})).text
        assert "data-testid='remove-link'" in detail
        assert link.account_id in detail
        outcome = await acted(client, "/act/link-remove", identity_id=user_id,
                              account_id=link.account_id, reason="wrong pairing")  # fmt: skip
        assert "data-ok='true'" in outcome, outcome
        assert console.store.links(identity_ids=[user_id]) == []
        outcome = await acted(client, "/act/link-set", identity_id=user_id,
                              account_id=link.account_id, reason="right after all")  # fmt: skip
        assert "data-ok='true'" in outcome, outcome
        again = await acted(client, "/act/link-set", identity_id=user_id,
                            account_id=link.account_id, reason="twice")  # fmt: skip
    assert "already paired" in again
    assert "data-ok='false'" in again
    (restored,) = console.store.links(identity_ids=[user_id])
    assert restored.linked_by_hand
    kinds = [r.kind for r in console.store.journal(identity_id=user_id)]
    assert kinds[-2:] == ["unlink", "link"]


async def test_a_refused_act_is_a_readable_outcome_and_changes_nothing(console: Console) -> None:
    name = person(13)  # enabled, same email on both sides: the planner would pair them again
    user_id = console.world.keycloak_user(name).id  # type: ignore[attr-defined]
    before = len(console.store.journal())
    async with console.client(ADA) as client:
        outcome = await acted(client, "/act/link-remove", identity_id=user_id,
                              reason="try")  # fmt: skip
        missing = await acted(client, "/act/link-set", identity_id="", reason="nothing")
    assert "the next plan would pair them again" in outcome
    assert "identity id is required" in missing
    assert len(console.store.links(identity_ids=[user_id])) == 1
    assert len(console.store.journal()) == before


async def test_a_viewer_sees_people_but_no_forms(console: Console) -> None:
    user_id = console.world.keycloak_user(person(12)).id  # type: ignore[attr-defined]
    async with console.client(VIC) as client:
        detail = (await client.get("/person", params={"id": user_id})).text
        page = (await client.get("/")).text
        form = {"csrf_token": TOKEN, "identity_id": user_id, "account_id": "x", "reason": "r"}
        refused = await client.post("/act/link-set", data=form)
    assert f"{person(12)}@{DOMAIN}" in detail
    assert "<form method='post'" not in detail
    assert "<form method='post'" not in page
    assert "ambiguous-identities" in page
    assert refused.status_code == 403
