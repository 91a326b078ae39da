"""The wave's Atlassian lookup: many emails in one v2 search per hundred addresses."""

from __future__ import annotations

import json

import httpx

from offboard_emulators.atlassian import create_app
from offboard_emulators.atlassian.app import EmulatorParts
from offboard_emulators.atlassian.fixture import generate_accounts
from tests.adapters.atlassian.test_against_emulator import ORG, SEARCH, directory, parts

__all__ = ["parts"]  # the fixture, used by name


def recording_searches(parts: EmulatorParts) -> tuple[httpx.MockTransport, list[list[str]]]:
    """A transport to the emulator that notes the ``emails`` of each v2 search it passes on."""
    sent: list[list[str]] = []
    app = create_app(parts=parts)

    async def recording(request: httpx.Request) -> httpx.Response:
        if request.url.path == SEARCH:
            sent.append(json.loads(request.content)["emails"])
        return await httpx.ASGITransport(app).handle_async_request(request)

    return httpx.MockTransport(recording), sent


async def test_250_emails_take_three_searches_and_find_every_account(
    parts: EmulatorParts,
) -> None:
    ids = generate_accounts(parts.state, ORG, 250, domain="example.com", directory_id="dir-main")
    with parts.state.lock:
        emails = [parts.state.account(account_id).email for account_id in ids]
    asked = [*emails, "nobody@example.com"]
    async with directory(httpx.ASGITransport(create_app(parts=parts))) as adapter:
        found = await adapter.find_by_emails(asked)
    assert sorted(account.id for account in found) == sorted(ids)
    searches = [e for e in parts.log.entries() if e.method == "POST" and e.path == SEARCH]
    assert len(searches) == 3  # 100 + 100 + 51 addresses


async def test_each_search_names_at_most_a_hundred_exact_addresses(parts: EmulatorParts) -> None:
    transport, sent = recording_searches(parts)
    emails = [f"person{n}@example.com" for n in range(150)]
    async with directory(transport) as adapter:
        assert await adapter.find_by_emails(emails) == []
    assert [len(chunk) for chunk in sent] == [100, 50]
    assert [address for chunk in sent for address in chunk] == emails


async def test_an_address_with_capitals_is_asked_as_given_and_in_lower_case(
    parts: EmulatorParts,
) -> None:
    """The v2 ``emails`` filter is exact and Atlassian does not say whether case counts:
    with the emulator matching case too, an account in either spelling is found."""
    ids = generate_accounts(parts.state, ORG, 2, domain="example.com", directory_id="dir-main")
    with parts.state.lock:
        parts.state.realism.emails_filter_ignores_case = False
        capitals, lower = (parts.state.account(account_id) for account_id in ids)
        del parts.state.by_email[capitals.email.lower()]
        capitals.email = "June.Park@example.com"  # as SAML sign-in sent it
        parts.state.by_email[capitals.email.lower()] = capitals.account_id
    asked = ["June.Park@example.com", lower.email.upper(), "already@example.com"]
    transport, sent = recording_searches(parts)
    async with directory(transport) as adapter:
        found = await adapter.find_by_emails(asked)
    assert sorted(account.id for account in found) == sorted(ids)
    assert sent == [
        ["June.Park@example.com", "june.park@example.com", asked[1], lower.email,
         "already@example.com"],
    ]  # fmt: skip


async def test_a_tenant_that_takes_fewer_addresses_gets_ten_a_search_and_everyone_is_found(
    parts: EmulatorParts,
) -> None:
    """A hundred addresses a search is not documented (``emails`` has no maxItems): the
    other id filters take ten. A tenant that refuses a hundred with a 400 must not leave a
    wave's lookups failing forever: the adapter asks ten at a time from then on."""
    ids = generate_accounts(parts.state, ORG, 25, domain="example.com", directory_id="dir-main")
    with parts.state.lock:
        parts.state.realism.emails_filter_max = 10
        emails = [parts.state.account(account_id).email for account_id in ids]
    transport, sent = recording_searches(parts)
    async with directory(transport) as adapter:
        found = await adapter.find_by_emails(emails)
        again = await adapter.find_by_emails(emails)
    assert sorted(account.id for account in found) == sorted(ids)
    assert sorted(account.id for account in again) == sorted(ids)
    assert [len(chunk) for chunk in sent] == [25, 10, 10, 5, 10, 10, 5]
