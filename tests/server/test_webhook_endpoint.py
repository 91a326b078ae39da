"""POST /webhooks/keycloak: only a correctly signed, new, well-formed delivery queues a re-check."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offboard.intake.webhooks import sign
from tests.server.conftest import SECRET, Wired

USER = "0b8c4a57-5d0e-4f43-9b3a-0a1c2d3e4f50"
URL = "/webhooks/keycloak"


def delivery(uid: str = "evt-1", user: str = USER, operation: str = "UPDATE") -> bytes:
    return json.dumps(
        {
            "uid": uid,
            "type": f"admin.USER-{operation}",
            "time": 1795867200000,  # the fake clock's T0
            "realmId": "offboard-test",
            "resourcePath": f"users/{user}",
            "authDetails": {"realmId": "master", "clientId": "admin-cli", "userId": "x"},
        }
    ).encode()


def signed(body: bytes, secret: bytes = SECRET) -> dict[str, str]:
    return {"X-Keycloak-Signature": sign(body, secret), "Content-Type": "application/json"}


async def test_a_signed_delivery_queues_one_recheck(wired: Wired) -> None:
    body = delivery()
    response = await wired.client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 202
    assert [e.identity_id for e in wired.queued] == [USER]


async def test_an_unsigned_or_badly_signed_delivery_is_refused_and_does_nothing(
    wired: Wired,
) -> None:
    body = delivery()
    unsigned = await wired.client.post(URL, content=body)
    wrong = await wired.client.post(URL, content=body, headers=signed(body, b"guess"))
    assert (unsigned.status_code, wrong.status_code) == (401, 401)
    assert wired.queued == []
    # and a refused delivery does not burn its id: the genuine one still goes through
    good = await wired.client.post(URL, content=body, headers=signed(body))
    assert good.status_code == 202


async def test_a_replayed_delivery_is_ignored(wired: Wired) -> None:
    body = delivery()
    first = await wired.client.post(URL, content=body, headers=signed(body))
    again = await wired.client.post(URL, content=body, headers=signed(body))
    assert (first.status_code, again.status_code) == (202, 200)
    assert len(wired.queued) == 1


async def test_an_oversized_body_is_refused_before_it_is_read(wired: Wired) -> None:
    body = b"{" + b" " * 10_000 + b"}"
    response = await wired.client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no content-length: streamed
        for _ in range(10):
            yield b" " * 1000

    streamed = await wired.client.post(URL, content=chunks(), headers={"X-Keycloak-Signature": "x"})
    assert streamed.status_code == 413
    assert wired.queued == []


async def test_a_signed_but_malformed_body_is_a_400(wired: Wired) -> None:
    body = b'{"uid": 1'
    response = await wired.client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 400


async def test_a_standby_answers_503_so_the_sender_retries(wired: Wired) -> None:
    wired.accepting = False
    body = delivery()
    refused = await wired.client.post(URL, content=body, headers=signed(body))
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    wired.accepting = True
    retried = await wired.client.post(URL, content=body, headers=signed(body))
    assert retried.status_code == 202


async def test_webhooks_are_disabled_without_a_secret(wired: Wired) -> None:
    wired.receiver.secret = b""
    body = delivery()
    response = await wired.client.post(URL, content=body, headers=signed(body, b""))
    assert response.status_code == 404
    assert wired.queued == []


async def test_results_are_counted(wired: Wired) -> None:
    body = delivery()
    await wired.client.post(URL, content=body)
    await wired.client.post(URL, content=body, headers=signed(body))
    text = (await wired.client.get("/metrics")).text
    assert 'offboard_webhooks_total{result="unauthorised"} 1.0' in text
    assert 'offboard_webhooks_total{result="queued"} 1.0' in text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "uid": st.text(max_size=8) | st.integers(),
        "type": st.sampled_from(["admin.USER-UPDATE", "admin.USER-DELETE", "access.LOGIN"])
        | st.text(max_size=20),
        "time": st.integers(min_value=-(10**20), max_value=10**20) | json_values,
        "resourcePath": st.just(f"users/{USER}") | st.text(max_size=30),
        "userId": st.text(max_size=10),
    },
)
bodies = (
    payloads.map(lambda p: json.dumps(p).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
    | st.binary(min_size=4097, max_size=6000)
)


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies, how=st.sampled_from(["good", "none", "wrong", "prefixed", "garbage"]))
async def test_fuzz_never_a_5xx_never_an_action_without_a_valid_signature(
    wired: Wired, body: bytes, how: str
) -> None:
    headers = {
        "good": signed(body),
        "none": {},
        "wrong": signed(body, b"not-the-secret"),
        "prefixed": {"X-Keycloak-Signature": "sha256=" + sign(body, SECRET)},
        "garbage": {"X-Keycloak-Signature": "\x00zz"},
    }[how]
    before = len(wired.queued)
    response = await wired.client.post(URL, content=body, headers=headers)
    assert response.status_code < 500
    if how not in ("good", "prefixed"):
        assert response.status_code in (401, 413)
        assert len(wired.queued) == before
    if response.status_code != 202:
        assert len(wired.queued) == before
