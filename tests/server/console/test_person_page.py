"""The person page as an operator reads it before cutting someone off: the box to tick names
the person (name and email), not the id the page was opened with, and every time is UTC."""

from __future__ import annotations

import re

from offboard.cli.demo import DOMAIN, person
from tests.server.console.conftest import ADA, Console


async def test_the_cutoff_box_names_the_person_not_the_id(console: Console) -> None:
    email = f"{person(14)}@{DOMAIN}"
    user_id = console.world.keycloak_user(person(14)).id  # type: ignore[attr-defined]
    async with console.client(ADA) as client:
        page = (await client.get("/person", params={"id": user_id})).text  # as "details" opens it
    form = re.search(r"<form[^>]*data-testid='cutoff'.*?</form>", page, re.S)
    assert form is not None
    box = re.search(r"<label><input type='checkbox'[^>]*>(.*?)</label>", form.group(0), re.S)
    assert box is not None
    assert email in box.group(1), box.group(1)
    assert f"value='{user_id}'" in form.group(0)  # the act still names them by id
    linked = re.findall(r"<td data-label='Linked'>([^<]*)</td>", page)
    assert linked
    assert all(at.endswith(" UTC") for at in linked), linked


async def test_each_details_link_says_whose(console: Console) -> None:
    """A screen reader lists links out of context: ten links all called "details" say nothing."""
    async with console.client(ADA) as client:
        page = (await client.get("/history")).text
    links = re.findall(r"<a class='muted'[^>]*href='/person\?id=[^']*'[^>]*>details</a>", page)
    assert links
    for link in links:
        label = re.search(r"aria-label='details of ([^']+)'", link)
        assert label is not None, link
        assert "@" in label.group(1) or "Keycloak id" in label.group(1), link
