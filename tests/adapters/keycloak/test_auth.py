"""The client-credentials flow: cached token, early renewal, one 401 retry, secret kept out."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from offboard.adapters.keycloak import ClientCredentialsAuth, KeycloakSource
from offboard.ports import AuthenticationError
from tests.adapters.keycloak.conftest import make_source
from tests.adapters.keycloak.fake import BASE, REALM, SECRET, FakeKeycloak, user

TOKEN_URL = f"{BASE}/realms/{REALM}/protocol/openid-connect/token"


class Ticker:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def client_with(fake: FakeKeycloak, auth: ClientCredentialsAuth) -> httpx.AsyncClient:
    return httpx.AsyncClient(auth=auth, transport=fake.transport())


async def test_one_token_serves_many_requests(fake: FakeKeycloak, source: KeycloakSource) -> None:
    fake.users = [user(n) for n in range(25)]

    await source.snapshot()

    assert fake.tokens == 1
    token_request = fake.requests[0]
    assert token_request.method == "POST"
    assert b"grant_type=client_credentials" in token_request.content
    assert all(r.headers["Authorization"] == "Bearer token-1" for r in fake.requests[1:])


async def test_the_token_is_renewed_at_ninety_percent_of_its_lifetime(
    fake: FakeKeycloak,
) -> None:
    ticker = Ticker()
    auth = ClientCredentialsAuth(TOKEN_URL, "offboard", SecretStr(SECRET), monotonic=ticker)
    async with client_with(fake, auth) as client:
        await client.get(f"{BASE}/admin/realms/{REALM}/users/count")
        ticker.seconds = 269.0  # 300 s token: still fresh
        await client.get(f"{BASE}/admin/realms/{REALM}/users/count")
        assert fake.tokens == 1
        ticker.seconds = 270.5
        await client.get(f"{BASE}/admin/realms/{REALM}/users/count")

    assert fake.tokens == 2
    assert fake.requests[-1].headers["Authorization"] == "Bearer token-2"


async def test_a_401_is_retried_once_with_a_fresh_token(fake: FakeKeycloak) -> None:
    auth = ClientCredentialsAuth(TOKEN_URL, "offboard", SecretStr(SECRET))
    async with client_with(fake, auth) as client:
        await client.get(f"{BASE}/admin/realms/{REALM}/users/count")
        fake.revoked.add("token-1")  # e.g. the server restarted
        response = await client.get(f"{BASE}/admin/realms/{REALM}/users/count")

    assert response.status_code == 200
    assert fake.tokens == 2


async def test_a_second_401_is_not_retried_forever(fake: FakeKeycloak) -> None:
    fake.override = lambda request: httpx.Response(401, json={"error": "nope"})
    auth = ClientCredentialsAuth(TOKEN_URL, "offboard", SecretStr(SECRET))
    async with client_with(fake, auth) as client:
        response = await client.get(f"{BASE}/admin/realms/{REALM}/users/count")

    assert response.status_code == 401
    assert fake.tokens == 2
    assert len(fake.requests) == 4  # token, request, token, request


async def test_a_wrong_secret_is_an_authentication_error_without_the_secret(
    fake: FakeKeycloak,
) -> None:
    wrong = "wrong-secret-do-not-print"
    auth = ClientCredentialsAuth(TOKEN_URL, "offboard", SecretStr(wrong))
    async with client_with(fake, auth) as client:
        with pytest.raises(AuthenticationError) as raised:
            await client.get(f"{BASE}/admin/realms/{REALM}/users/count")

    assert "offboard" in str(raised.value)
    assert wrong not in str(raised.value)
    assert wrong not in repr(auth.__dict__)


async def test_a_snapshot_without_credentials_raises_rather_than_reporting_empty(
    fake: FakeKeycloak,
) -> None:
    # Without a token nothing was read at all: the page walk records problems, never "empty".
    fake.users = [user(1)]
    source = make_source(fake, page_size=10)
    source.auth._client_secret = SecretStr("wrong")
    async with source:
        snapshot = await source.snapshot()

    assert not snapshot.complete
    assert snapshot.identities == ()


@pytest.mark.parametrize(
    ("answer", "said", "key"),
    [
        ({"error": "Realm does not exist"}, f"Keycloak has no realm {REALM!r}", "keycloak.realm"),
        ({"error": "Not Found"}, "no Keycloak token endpoint", "keycloak.base_url"),
    ],
)
async def test_a_404_at_the_token_endpoint_is_no_such_realm_or_a_wrong_base_url(
    answer: dict[str, str], said: str, key: str
) -> None:
    from offboard.ports import PermanentError

    gone = httpx.MockTransport(lambda request: httpx.Response(404, json=answer))
    auth = ClientCredentialsAuth(TOKEN_URL, "offboard", SecretStr(SECRET))
    async with httpx.AsyncClient(auth=auth, transport=gone) as client:
        with pytest.raises(PermanentError, match=said) as raised:
            await client.get(f"{BASE}/admin/realms/{REALM}/users/count")
    assert TOKEN_URL in str(raised.value)
    assert key in str(raised.value)
    assert SECRET not in str(raised.value)
