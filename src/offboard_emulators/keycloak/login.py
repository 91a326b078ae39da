"""The token endpoint's rules: client credentials, password logins, brute-force lockouts and
bearer tokens that expire after the realm's `accessTokenLifespan`.

Tokens are opaque random strings (the real server issues signed JWTs; nothing offboard does
may depend on reading them). Lockouts follow Keycloak's temporary-lockout rules closely
enough for tests: `failureFactor` failures, or two within `quickLoginCheckMilliSeconds`,
lock the user; permanent lockout disables the stored user.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from offboard_emulators.keycloak.errors import oauth_error, unauthorized
from offboard_emulators.keycloak.model import Client, User, effective_roles
from offboard_emulators.keycloak.state import Realm

INVALID_CLIENT = ("unauthorized_client", "Invalid client or Invalid client credentials")
UNKNOWN_CLIENT = ("invalid_client", INVALID_CLIENT[1])
"""An unknown or disabled client: the same words under another error code."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a bearer token speaks for."""

    user_id: str
    client: Client
    roles: frozenset[str]
    expires_ms: int


@dataclass(slots=True)
class LoginFailures:
    """Brute-force bookkeeping for one user."""

    num_failures: int = 0
    last_failure_ms: int = 0
    locked_until_ms: int = 0
    num_temporary_lockouts: int = 0


class Logins:
    """Issues and checks tokens, and counts failed logins, for one realm."""

    def __init__(self, realm: Realm) -> None:
        self.realm = realm
        self._lock = threading.Lock()
        self._tokens: dict[str, Principal] = {}
        self.failures: dict[str, LoginFailures] = {}

    def reset(self) -> None:
        """Forget every token and login failure."""
        with self._lock:
            self._tokens.clear()
            self.failures.clear()

    def client_credentials(self, client_id: str | None, secret: str | None) -> dict[str, Any]:
        """A token for the client's service account, or 401 unauthorized_client."""
        client = self.realm.clients.get(client_id or "")
        if client is not None and client.public:
            raise oauth_error(
                401, "unauthorized_client", "Public client not allowed to retrieve service account"
            )
        if client is None:
            raise oauth_error(401, *UNKNOWN_CLIENT)
        if client.secret != secret:
            raise oauth_error(401, *INVALID_CLIENT)
        if not client.service_accounts:
            raise oauth_error(
                401, "unauthorized_client", "Client not enabled to retrieve service account"
            )
        account = self.realm.user_by_username(f"service-account-{client.client_id}")
        if account is None:
            raise oauth_error(401, *INVALID_CLIENT)
        return self._issue(account, client)

    def password(
        self, client_id: str | None, secret: str | None, username: str, password: str
    ) -> dict[str, Any]:
        """A direct-grant login; wrong passwords count towards a lockout."""
        client = self.realm.clients.get(client_id or "")
        if client is None or (not client.public and client.secret != secret):
            raise oauth_error(401, *INVALID_CLIENT)
        if not client.direct_grants:
            raise oauth_error(
                400, "unauthorized_client", "Client not allowed for direct access grants"
            )
        user = self.realm.user_by_username(username)
        invalid = oauth_error(400, "invalid_grant", "Invalid user credentials")
        if user is None:
            self.realm.record_user_event(
                "LOGIN_ERROR", client_id=client.client_id, user_id=None, error="user_not_found"
            )
            raise invalid
        if self.locked(user.id):
            self._login_error(user, client, "user_temporarily_disabled")
            raise invalid
        if not user.enabled:
            self._login_error(user, client, "user_disabled")
            raise invalid
        if user.password is None or not secrets.compare_digest(user.password, password):
            self._login_error(user, client, "invalid_user_credentials")
            self._count_failure(user)
            raise invalid
        with self._lock:
            self.failures.pop(user.id, None)
        return self._issue(user, client)

    def principal(self, authorization: str | None) -> Principal:
        """The caller behind an `Authorization: Bearer …` header, or 401."""
        if not authorization or not authorization.startswith("Bearer "):
            raise unauthorized()
        with self._lock:
            found = self._tokens.get(authorization[len("Bearer ") :].strip())
        if found is None or found.expires_ms <= self.realm.now_ms():
            raise unauthorized()
        return found

    def locked(self, user_id: str) -> bool:
        """Whether the user is temporarily locked out right now."""
        with self._lock:
            failures = self.failures.get(user_id)
        return failures is not None and failures.locked_until_ms > self.realm.now_ms()

    def status(self, user_id: str) -> dict[str, Any]:
        """`attack-detection/brute-force/users/{id}` (zeros for users without failures)."""
        with self._lock:
            failures = self.failures.get(user_id) or LoginFailures()
        return {
            "failedLoginNotBefore": failures.locked_until_ms // 1000,
            "numFailures": failures.num_failures,
            "numTemporaryLockouts": failures.num_temporary_lockouts,
            "disabled": self.locked(user_id),
            "numSecondaryAuthFailures": 0,
            "lastIPFailure": "127.0.0.1" if failures.num_failures else "n/a",
            "lastFailure": failures.last_failure_ms,
        }

    def clear(self, user_id: str) -> None:
        """`DELETE attack-detection/brute-force/users/{id}`: forget failures, end a lockout."""
        with self._lock:
            self.failures.pop(user_id, None)

    def _issue(self, user: User, client: Client) -> dict[str, Any]:
        lifespan = client.token_lifespan or self.realm.settings.access_token_lifespan
        token = secrets.token_urlsafe(32)
        principal = Principal(
            user.id, client, effective_roles(user.roles), self.realm.now_ms() + lifespan * 1000
        )
        with self._lock:
            self._tokens[token] = principal
        return {
            "access_token": token,
            "expires_in": lifespan,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "email profile",
        }

    def _login_error(self, user: User, client: Client, error: str) -> None:
        details = (
            ("auth_method", "openid-connect"),
            ("grant_type", "password"),
            ("client_auth_method", "client-secret"),
            ("username", user.username),
        )
        self.realm.record_user_event(
            "LOGIN_ERROR", client_id=client.client_id, user_id=user.id, error=error, details=details
        )

    def _count_failure(self, user: User) -> None:
        settings = self.realm.settings
        if not settings.brute_force_protected:
            return
        now = self.realm.now_ms()
        with self._lock:
            failures = self.failures.setdefault(user.id, LoginFailures())
            quick = now - failures.last_failure_ms < settings.quick_login_check_milli_seconds
            failures.num_failures += 1
            failures.last_failure_ms = now
            if failures.num_failures >= settings.failure_factor:
                wait = min(settings.wait_increment_seconds, settings.max_failure_wait_seconds)
                failures.num_temporary_lockouts += 1  # the quick-login lockout does not count
            elif quick:
                wait = settings.minimum_quick_login_wait_seconds
            else:
                return
            failures.locked_until_ms = now + wait * 1000
            count = failures.num_failures
        if settings.permanent_lockout:
            user.enabled = False
            self.realm.record_user_event(
                "USER_DISABLED_BY_PERMANENT_LOCKOUT",
                user_id=user.id,
                details=(("reason", "brute_force_attack detected"), ("num_failures", str(count))),
            )
            return
        not_before = datetime.fromtimestamp((now + wait * 1000) / 1000, UTC)
        self.realm.record_user_event(
            "USER_DISABLED_BY_TEMPORARY_LOCKOUT",
            user_id=user.id,
            details=(
                ("reason", "brute_force_attack detected"),
                ("not_before", not_before.strftime("%Y-%m-%dT%H:%M:%S")),
                ("num_failures", str(count)),
            ),
        )
