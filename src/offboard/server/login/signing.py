"""Signed values for the two cookies the login sets: the session id, and the pending login
(state, nonce and PKCE verifier between the redirect to Keycloak and the callback).

HMAC-SHA256 with the session secret; each use has its own purpose string, so one signed
value never passes for the other. A changed secret makes every signature wrong, which is
how a new secret ends every session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

SESSION = "offboard-session"
PENDING_LOGIN = "offboard-pending-login"


class Signer:
    """Sign and verify short values with the session secret."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(secret.encode()).digest()

    def sign(self, purpose: str, value: str) -> str:
        """``value.signature`` (value must not contain '.' for :meth:`unsign` to split it)."""
        return f"{value}.{self._mac(purpose, value)}"

    def unsign(self, purpose: str, signed: str) -> str | None:
        """The value, or None when the signature is missing or wrong."""
        value, dot, mac = signed.rpartition(".")
        if not dot or not hmac.compare_digest(mac, self._mac(purpose, value)):
            return None
        return value

    def seal(self, purpose: str, payload: dict[str, Any], ttl: float) -> str:
        """A signed, expiring JSON payload (readable by the browser, not changeable)."""
        document = {**payload, "exp": time.time() + ttl}
        encoded = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")
        return self.sign(purpose, encoded)

    def unseal(self, purpose: str, sealed: str) -> dict[str, Any] | None:
        """The payload of :meth:`seal`, or None when forged, malformed or expired."""
        encoded = self.unsign(purpose, sealed)
        if encoded is None:
            return None
        try:
            document = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        except ValueError:
            return None
        if not isinstance(document, dict) or not isinstance(document.get("exp"), float | int):
            return None
        return document if document["exp"] > time.time() else None

    def _mac(self, purpose: str, value: str) -> str:
        digest = hmac.new(self._key, f"{purpose}\n{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe) for session ids and CSRF tokens."""
    return secrets.token_urlsafe(32)


def storage_key(session_id: str) -> str:
    """How the store keys a session: a hash, so the database never holds a usable cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()
