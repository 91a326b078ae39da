"""The ``[console]`` section: who may open the operator's console, through the company's
Keycloak (OpenID Connect), and how long their session lasts.

Without an ``issuer`` the console is not served: the operations listener answers only its
probes (``/healthz``, ``/readyz``, ``/leaderz``, ``/metrics``) and a short page saying how to
configure the login.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationInfo, field_validator, model_validator

from offboard.settings.values import Duration, Section, read_secret, secure_url

MIN_SESSION_SECRET_LENGTH = 32
"""The session secret signs every cookie; a short one could be guessed offline."""


class ConsoleSettings(Section):
    """The operator's console on the operations listener: login with OpenID Connect."""

    issuer: str | None = None
    """The Keycloak realm that logs people in, e.g. ``https://sso.example.com/realms/company``
    (its ``/.well-known/openid-configuration`` is read). Unset: the console is not served,
    only the probes answer."""
    client_id: str = "offboard-console"
    """The confidential OpenID Connect client in that realm (standard flow, PKCE S256)."""
    client_secret: SecretStr | None = None
    """The client's secret; prefer ``client_secret_file`` or the environment."""
    client_secret_file: Path | None = None
    """A file holding the client's secret."""
    public_url: str = "http://127.0.0.1:8080"
    """The console's address as browsers reach it (behind a proxy: the proxy's). The login
    callback is ``<public_url>/auth/callback``; cookies are ``Secure`` when it is https."""
    viewer_role: str = "offboard-viewer"
    """The client role (``resource_access.<client_id>.roles``) that may look at the console."""
    operator_role: str = "offboard-operator"
    """The client role that may also act (release a hold, override, link, retry)."""
    session_secret: SecretStr | None = None
    """Signs the session cookies (at least 32 characters); changing it ends every session.
    Prefer ``session_secret_file`` or the environment."""
    session_secret_file: Path | None = None
    """A file holding the session secret."""
    session_idle: Duration = timedelta(minutes=30)
    """A session unused this long is ended."""
    session_lifetime: Duration = timedelta(hours=8)
    """A session ends this long after the login, however active."""
    ca_bundle: Path | None = None
    """A PEM bundle to verify the issuer's TLS certificate (a private CA)."""

    @field_validator("issuer", "public_url")
    @classmethod
    def _secure(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else secure_url(info.field_name or "url", value)

    @model_validator(mode="after")
    def _resolve(self) -> ConsoleSettings:
        client = read_secret(self.client_secret, self.client_secret_file, "client_secret")
        session = read_secret(self.session_secret, self.session_secret_file, "session_secret")
        object.__setattr__(self, "client_secret", client)
        object.__setattr__(self, "session_secret", session)
        if self.issuer is None:
            return self
        if client is None:
            raise ValueError(
                "client_secret: missing (set OFFBOARD_CONSOLE__CLIENT_SECRET or "
                "console.client_secret_file)"
            )
        if session is None or len(session.get_secret_value()) < MIN_SESSION_SECRET_LENGTH:
            raise ValueError(
                f"session_secret: missing or shorter than {MIN_SESSION_SECRET_LENGTH} "
                "characters; generate one, e.g. `openssl rand -hex 32`"
            )
        if not timedelta(0) < self.session_idle <= self.session_lifetime:
            raise ValueError("session_idle: must be more than zero and at most session_lifetime")
        if self.viewer_role == self.operator_role:
            raise ValueError("operator_role: must differ from viewer_role")
        return self

    @property
    def enabled(self) -> bool:
        """True when a login is configured (and so the console is served)."""
        return self.issuer is not None

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over TLS when browsers reach the console over https."""
        return urlsplit(self.public_url).scheme == "https"

    @property
    def callback_url(self) -> str:
        """Where Keycloak sends the browser back with the authorization code."""
        return f"{self.public_url}/auth/callback"
