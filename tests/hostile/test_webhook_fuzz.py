"""Issue 13: the webhook endpoint fuzzed past the signature check and down to the socket.

tests/server/test_webhook_endpoint.py already fuzzes unsigned and badly signed bodies. Here
hypothesis goes further: hostile payloads that *are* correctly signed (so the parser, the
time window and the replay memory meet them), every header and content type, odd signature
spellings, and raw HTTP over a real hardened listener (lying or duplicated Content-Length,
broken chunked encoding, bytes that are not HTTP). The properties: never a 5xx, and nothing
is acted on unless it is a correctly signed, well-formed, fresh delivery about one user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offboard.intake.webhooks import ReplayFilter, sign
from offboard.ports import IdentityEvent
from offboard.server.app import create_webhook_app
from offboard.server.listeners import Limits, listener
from offboard.server.webhook import WebhookReceiver
from tests.hostile.conftest import HostileRow
from tests.keycloak.server import free_port
from tests.service.fakes import FakeClock

SECRET = b"a-webhook-secret-long-enough-0123"
USER = "0b8c4a57-5d0e-4f43-9b3a-0a1c2d3e4f50"
URL = "/webhooks/keycloak"
CLOCK = FakeClock()
NOW_MS = int(CLOCK.now().timestamp() * 1000)
FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

hostile_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
    | st.sampled_from(["", " ", "\x00", "users/", "users/../admin", "users//", "ü" * 50,
                       f"users/{USER}/../../x", f"users/{USER}?x=1", "9" * 400])
)  # fmt: skip
hostile_values = st.recursive(
    hostile_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8,
)  # fmt: skip
FIELDS = ("uid", "id", "type", "time", "realmId", "resourcePath", "operationType",
          "userId", "representation", "authDetails")  # fmt: skip


def valid(uid: str) -> dict[str, Any]:
    return {"uid": uid, "type": "admin.USER-UPDATE", "time": NOW_MS, "realmId": "r",
            "resourcePath": f"users/{USER}"}  # fmt: skip


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """A valid delivery with fields removed, replaced by hostile values, or added; or text
    that is barely JSON at all (deep nesting, NaN, duplicate keys, other encodings)."""
    shape = draw(st.sampled_from(["mutated", "deep", "raw", "duplicate", "encoded"]))
    if shape == "deep":
        depth = draw(st.integers(100, 50_000))
        return b"[" * depth + b"]" * draw(st.sampled_from([0, depth]))
    if shape == "raw":
        return draw(st.binary(max_size=200))
    uid = draw(st.text(min_size=1, max_size=8))
    payload = valid(uid)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        if draw(st.booleans()):
            payload.pop(name, None)
        else:
            payload[name] = draw(hostile_values)
    text = json.dumps(payload, allow_nan=True)
    if shape == "duplicate":
        text = text[:-1] + ', "resourcePath": "users/someone-else", "uid": 5}'
    if shape == "encoded":
        return text.encode(draw(st.sampled_from(["utf-16", "utf-32", "latin-1"])), "replace")
    return text.encode()


content_types = st.sampled_from([
    None, "application/json", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/json; charset=utf-16", "*/*", "\x7f", "",
])  # fmt: skip
header_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200)


SIGNATURE_SPELLINGS = ["good", "upper", "prefixed", "spaced", "truncated", "doubled",
                       "other-body", "empty", "none", "unicode"]  # fmt: skip


def signature_for(body: bytes, how: str) -> str | None:
    good = sign(body, SECRET)
    return {
        "good": good, "upper": good.upper(), "prefixed": f"sha256={good}",
        "spaced": f"  {good}  ", "truncated": good[:-2], "doubled": good + good,
        "other-body": sign(body + b" ", SECRET), "empty": "", "none": None,
        "unicode": good[:-1] + "é",
    }[how]  # fmt: skip


@contextlib.asynccontextmanager
async def receiver(queued: list[IdentityEvent]) -> AsyncIterator[WebhookReceiver]:
    yield WebhookReceiver(
        SECRET, lambda event: queued.append(event) is None, max_body=4096,
        replays=ReplayFilter(), now=CLOCK.now, window=timedelta(minutes=15), body_timeout=0.5,
    )  # fmt: skip


def acted_on_rightly(body: bytes, how: str, status: int, queued: list[IdentityEvent]) -> None:
    """Only a correctly signed, fresh, well-formed delivery about one user is acted on, once."""
    assert status < 500
    if status != 202:
        assert queued == []
        return
    assert how in ("good", "upper", "prefixed", "spaced")
    (event,) = queued
    document = json.loads(body)  # duplicate keys: the last one, as the receiver read it
    assert document["resourcePath"].startswith(f"users/{event.identity_id}")
    assert event.identity_id in (USER, "someone-else")


@pytest.mark.slow
@FUZZ
@given(
    body=payloads(),
    how=st.sampled_from(SIGNATURE_SPELLINGS),
    content_type=content_types,
    extra=st.dictionaries(header_names, header_values, max_size=4),
)
async def test_signed_hostile_bodies_and_headers_never_5xx_and_act_only_on_a_real_delivery(
    body: bytes, how: str, content_type: str | None, extra: dict[str, str]
) -> None:
    queued: list[IdentityEvent] = []
    headers = {k: v for k, v in extra.items() if k not in ("content-length", "host",
                                                           "transfer-encoding")}  # fmt: skip
    signature = signature_for(body, how)
    if signature is not None:
        headers["X-Keycloak-Signature"] = signature
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with receiver(queued) as hook:
        transport = httpx.ASGITransport(app=create_webhook_app(hook))
        async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
            try:
                response = await client.post(URL, content=body, headers=headers)
            except (UnicodeEncodeError, httpx.LocalProtocolError):
                return  # the client itself refuses to send such a header: nothing reached us
    acted_on_rightly(body, how, response.status_code, queued)


@pytest.mark.slow
@FUZZ
@given(method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
       path=st.sampled_from([URL, URL + "/", URL + "?x=1", "/webhooks/KEYCLOAK", "/webhooks",
                             "/metrics", "/readyz", "/", "//webhooks/keycloak"]))  # fmt: skip
async def test_other_methods_and_paths_are_refused_without_acting(method: str, path: str) -> None:
    queued: list[IdentityEvent] = []
    body = json.dumps(valid("evt-m")).encode()
    async with receiver(queued) as hook:
        transport = httpx.ASGITransport(app=create_webhook_app(hook))
        async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
            response = await client.request(
                method, path, content=body, headers={"X-Keycloak-Signature": sign(body, SECRET)}
            )
    assert response.status_code < 500
    if not (method == "POST" or response.status_code == 202):
        assert queued == []


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    """HTTP/1.1 requests as bytes, with framing a client library would never send."""
    body = json.dumps(valid(draw(st.text(alphabet="abc123", min_size=1, max_size=6)))).encode()
    signature = sign(body, SECRET).encode()
    head = [b"POST " + URL.encode() + b" HTTP/1.1", b"Host: 127.0.0.1",
            b"X-Keycloak-Signature: " + signature]  # fmt: skip
    framing = draw(
        st.sampled_from(
            [
                "short-length",
                "long-length",
                "two-lengths",
                "bad-chunk",
                "chunk-and-length",
                "negative",
                "junk",
                "huge-header",
            ]
        )
    )
    if framing == "short-length":
        head.append(f"Content-Length: {len(body) // 2}".encode())
    elif framing == "long-length":
        head.append(f"Content-Length: {len(body) + draw(st.integers(1, 100))}".encode())
    elif framing == "two-lengths":
        head += [f"Content-Length: {len(body)}".encode(), b"Content-Length: 3"]
    elif framing == "negative":
        head.append(b"Content-Length: -1")
    elif framing in ("bad-chunk", "chunk-and-length"):
        head.append(b"Transfer-Encoding: chunked")
        if framing == "chunk-and-length":
            head.append(f"Content-Length: {len(body)}".encode())
        body = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
    elif framing == "huge-header":
        head.append(b"X-Pad: " + b"a" * draw(st.integers(10_000, 200_000)))
        head.append(f"Content-Length: {len(body)}".encode())
    else:
        return draw(st.binary(min_size=1, max_size=300)) + b"\r\n\r\n"
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@pytest.mark.slow
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(request=raw_requests())
async def test_raw_http_framing_tricks_never_5xx_and_never_act(
    request: bytes, hostile_row: HostileRow
) -> None:
    queued: list[IdentityEvent] = []
    async with receiver(queued) as hook:
        port = free_port()
        server = listener(create_webhook_app(hook), "127.0.0.1", port,
                          Limits(header_timeout=1.0, keep_alive_timeout=1.0))  # fmt: skip
        task = asyncio.create_task(server.serve())
        try:
            for _ in range(500):
                if server.started:
                    break
                await asyncio.sleep(0.01)
            answer = await _exchange(port, request)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)
    status_line = answer.split(b"\r\n", 1)[0]
    assert not status_line.startswith(b"HTTP/1.1 5"), status_line
    # Every request here is mis-framed: whatever the server read of it, it acts on nothing
    # that is not exactly the signed body (a body cut short fails its signature).
    assert all(event.identity_id == USER for event in queued)
    assert len(queued) <= 1
    if queued:
        assert status_line.startswith(b"HTTP/1.1 202")
    hostile_row(area="webhook framing", inputs=1, wrongful_actions=0, crashes=0,
                secrets_leaked=0, lost_actions=0, note="raw HTTP framing fuzz")  # fmt: skip


async def _exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` and read what comes back until the server closes or goes quiet."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        chunks: list[bytes] = []
        with contextlib.suppress(TimeoutError, ConnectionError):
            while chunk := await asyncio.wait_for(reader.read(65536), 2.0):
                chunks.append(chunk)
        return b"".join(chunks)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
