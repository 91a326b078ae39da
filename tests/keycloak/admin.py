"""Drive a real Keycloak server as its administrator, to set up what the tests look at.

    admin = keycloak_server.admin              # from the keycloak_server fixture
    user_id = admin.create_user("erin", email="erin@example.test")
    admin.disable_user(user_id)                # PUT users/{id}: an admin UPDATE event
    admin.delete_user(user_id)                 # DELETE users/{id}: an admin DELETE event
    admin.lock_out("alice")                    # failed password logins until temporarily locked
    ids = admin.bulk_create_users(2000, prefix="bench")   # concurrent, for benchmarks

Authenticates as the master realm's bootstrap admin (password grant of `admin-cli`) and
renews the token before it expires (master tokens live 60 s). Usernames must be unique per
server: a reused, hand-started server keeps what earlier sessions created.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

TOKEN_MARGIN_S = 10.0


class KeycloakAdmin:
    """Admin REST calls on one realm of a real server, as the master bootstrap admin."""

    def __init__(
        self,
        base_url: str,
        realm: str,
        username: str,
        password: str,
        login_client_id: str = "offboard-login",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.realm = realm
        self.login_client_id = login_client_id
        self._credentials = {"username": username, "password": password}
        self._http = httpx.Client(base_url=self.base_url, timeout=30.0)
        self._lock = threading.Lock()
        self._token = ""
        self._token_expires = 0.0

    @property
    def credentials(self) -> tuple[str, str]:
        """(username, password) of the master-realm admin, for tests that need their own client."""
        return self._credentials["username"], self._credentials["password"]

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __repr__(self) -> str:
        return f"KeycloakAdmin(base_url={self.base_url!r}, realm={self.realm!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def token(self) -> str:
        """A master-realm admin access token, renewed shortly before it expires."""
        with self._lock:
            if time.monotonic() < self._token_expires - TOKEN_MARGIN_S:
                return self._token
            response = self._http.post(
                "/realms/master/protocol/openid-connect/token",
                data={"grant_type": "password", "client_id": "admin-cli", **self._credentials},
            )
            response.raise_for_status()
            body = response.json()
            self._token = str(body["access_token"])
            self._token_expires = time.monotonic() + float(body["expires_in"])
            return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One admin call on `/admin/realms/{realm}/{path}`; raises on 4xx/5xx."""
        response = self._http.request(
            method,
            f"/admin/realms/{self.realm}/{path.lstrip('/')}",
            headers={"Authorization": f"Bearer {self.token()}"},
            **kwargs,
        )
        response.raise_for_status()
        return response

    # -- users ------------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        *,
        email: str | None = None,
        enabled: bool = True,
        first_name: str | None = None,
        last_name: str | None = None,
        password: str | None = None,
        attributes: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """Create a user and return its id (taken from the Location header)."""
        body: dict[str, Any] = {
            "username": username,
            "enabled": enabled,
            "email": email if email is not None else f"{username}@example.test",
            "emailVerified": True,
            "firstName": first_name or username.capitalize(),
            "lastName": last_name or "Test",
        }
        if password is not None:
            body["credentials"] = [{"type": "password", "value": password, "temporary": False}]
        if attributes:
            body["attributes"] = {key: list(values) for key, values in attributes.items()}
        response = self.request("POST", "users", json=body)
        return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    def get_user(self, user_id: str) -> dict[str, Any]:
        """The full UserRepresentation."""
        body: dict[str, Any] = self.request("GET", f"users/{user_id}").json()
        return body

    def user_id(self, username: str) -> str:
        """The id of the user with exactly this username."""
        found = self.request("GET", "users", params={"username": username, "exact": "true"})
        users: list[dict[str, Any]] = found.json()
        if len(users) != 1:
            raise LookupError(f"{len(users)} users named {username!r}")
        return str(users[0]["id"])

    def set_enabled(self, user_id: str, enabled: bool) -> None:
        """Read the user, flip `enabled` and PUT it back, as the admin console does."""
        user = self.get_user(user_id)
        user["enabled"] = enabled
        self.request("PUT", f"users/{user_id}", json=user)

    def disable_user(self, user_id: str) -> None:
        """Disable through the Admin API (records an admin UPDATE event)."""
        self.set_enabled(user_id, False)

    def enable_user(self, user_id: str) -> None:
        """Enable through the Admin API (records an admin UPDATE event)."""
        self.set_enabled(user_id, True)

    def delete_user(self, user_id: str) -> None:
        """Delete through the Admin API (records an admin DELETE event)."""
        self.request("DELETE", f"users/{user_id}")

    def bulk_create_users(self, count: int, *, prefix: str, workers: int = 8) -> list[str]:
        """Create `count` users named `{prefix}-{n:06d}` concurrently; returns their ids."""
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda n: self.create_user(f"{prefix}-{n:06d}"), range(count)))

    # -- groups -----------------------------------------------------------------------------

    def group_id(self, name: str) -> str:
        """The id of the top-level group with exactly this name."""
        groups = self.request("GET", "groups", params={"search": name, "exact": "true"}).json()
        for group in groups:
            if group["name"] == name:
                return str(group["id"])
        raise LookupError(f"no group named {name!r}")

    def add_to_group(self, user_id: str, group_name: str) -> None:
        """Make the user a member of a top-level group."""
        self.request("PUT", f"users/{user_id}/groups/{self.group_id(group_name)}")

    # -- brute force ------------------------------------------------------------------------

    def brute_force_status(self, user_id: str) -> dict[str, Any]:
        """`GET attack-detection/brute-force/users/{id}`."""
        status: dict[str, Any] = self.request(
            "GET", f"attack-detection/brute-force/users/{user_id}"
        ).json()
        return status

    def lock_out(self, username: str, *, max_attempts: int = 10) -> None:
        """Fail password logins (direct grant of the test client) until temporarily locked."""
        user_id = self.user_id(username)
        for _ in range(max_attempts):
            self._http.post(
                f"/realms/{self.realm}/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": self.login_client_id,
                    "username": username,
                    "password": "wrong-password-on-purpose",
                },
            )
            if self.brute_force_status(user_id).get("disabled"):
                return
        raise RuntimeError(f"{username} not locked after {max_attempts} failed logins")

    def release(self, user_id: str) -> None:
        """Clear the user's login failures (ends a temporary lockout)."""
        self.request("DELETE", f"attack-detection/brute-force/users/{user_id}")
