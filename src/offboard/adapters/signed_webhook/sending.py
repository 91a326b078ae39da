"""POST a notification as JSON, signed: ``X-Offboard-Signature: sha256=<hex>`` over
``<timestamp>.<body>``, with the timestamp (Unix seconds) in ``X-Offboard-Timestamp``.

A receiver recomputes the HMAC with the shared key over the timestamp header, a dot and the
raw body bytes, compares in constant time, and refuses a timestamp further than its replay
window (default five minutes) from its own clock. :func:`verify` does exactly that; the
how-to (docs/howto/notifications.md) shows the same in a few lines for any receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from pydantic import SecretStr

from offboard.adapters.http import error_for
from offboard.core.notifications import Condition, Text
from offboard.ports import TemporaryError

SIGNATURE_HEADER = "X-Offboard-Signature"
TIMESTAMP_HEADER = "X-Offboard-Timestamp"
REPLAY_WINDOW = 300
"""Seconds a receiver should accept between the timestamp and its own clock."""


def signature(key: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``timestamp.body``."""
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    key: bytes, timestamp: str | None, body: bytes, given: str | None, now: float,
    window: float = REPLAY_WINDOW,
) -> bool:  # fmt: skip
    """What a receiver does: the signature matches and the timestamp is within the window."""
    if not timestamp or not given or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > window:
        return False
    return hmac.compare_digest(signature(key, timestamp, body), given)


def payload(condition: Condition, text: Text, sent_at: datetime) -> dict[str, object]:
    """The JSON body: the condition as data, plus the rendered subject and text."""
    return {
        "version": 1,
        "kind": str(condition.kind),
        "key": condition.key,
        "title": condition.title,
        "details": list(condition.details),
        "todo": list(condition.todo),
        "subject": text.subject,
        "text": text.body,
        "sent_at": sent_at.isoformat(),
    }


class SignedWebhook:
    """One receiver URL and its signing key (both secrets: neither is ever shown)."""

    def __init__(
        self,
        url: SecretStr,
        key: SecretStr,
        client: httpx.AsyncClient,
        *,
        name: str = "webhook",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._url, self._key = url, key
        self._client = client
        self.name = name
        self._now = now

    async def send(self, condition: Condition, text: Text) -> None:
        """Post once, signed; raises ``TemporaryError`` / ``PermanentError`` without the URL."""
        sent_at = self._now()
        body = json.dumps(payload(condition, text, sent_at), separators=(",", ":")).encode()
        timestamp = str(int(sent_at.timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._key.get_secret_value().encode(), timestamp, body),
        }
        what = f"{self.name} webhook"
        try:
            response = await self._client.post(
                self._url.get_secret_value(), content=body, headers=headers
            )
        except httpx.TransportError as exc:
            raise TemporaryError(f"{what}: {type(exc).__name__}") from None
        if not response.is_success:
            raise error_for(response, what)

    def __repr__(self) -> str:
        return f"SignedWebhook({self.name}, ***)"
