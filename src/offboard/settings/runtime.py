"""The ``[store]``, ``[daemon]`` and ``[logging]`` sections: how offboard runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from offboard.settings.locations import store_url_problem
from offboard.settings.values import Duration, Section, read_secret


class StoreSettings(Section):
    """Where offboard keeps links, runs, plans and the journal."""

    path: Path | None = None
    """A SQLite file; default ``$XDG_STATE_HOME/offboard/offboard.sqlite3``. A relative path
    is beside the configuration file. Created 0600 (its folders 0700) on first use, saying
    so on stderr; a file holding another application's tables is refused."""
    url: SecretStr | None = None
    """A database URL instead, e.g. ``postgresql+psycopg://offboard@db/offboard``
    (``postgresql://`` means the same driver; ``sqlite:///PATH`` also works). Other backends,
    and a value without ``scheme://``, are refused without showing it (it may hold a
    password)."""
    auto_migrate: bool = False
    """Upgrade a store from an older offboard when a command opens it. Off by default: an
    upgrade is a step to take on purpose (``offboard store backup``, then ``offboard store
    migrate``), never by whichever replica starts first while old ones still run. An empty
    store always gets the schema."""
    retention: Duration = timedelta(days=30)
    """What the daemon's leader forgets once it is this old: runs that journaled nothing (the
    passes that changed nothing) with their plans, snapshot summaries but the newest of each
    kind, settled operator requests. The journal, and every run that journaled something, are
    never forgotten. ``0s`` keeps everything; else at least ``1d``. See ``offboard store
    prune``."""

    @model_validator(mode="after")
    def _one_of(self) -> StoreSettings:
        if self.path is not None and self.url is not None:
            raise ValueError("url: set store.path or store.url, not both")
        problem = store_url_problem(self.url.get_secret_value()) if self.url else None
        if problem is not None:
            raise ValueError(f"url: {problem}")
        if timedelta(0) < self.retention < MIN_RETENTION:
            raise ValueError(
                f"retention: 0s (keep everything) or at least 1d (got {self.retention})"
            )
        return self

    def location(self) -> Path | str | None:
        """The path or URL to open, or None for the store's default place."""
        return self.url.get_secret_value() if self.url is not None else self.path


MIN_RETENTION = timedelta(days=1)
"""A shorter retention could forget a pass still running (a pass never lasts a day)."""
MIN_WEBHOOK_SECRET_LENGTH = 16
"""A shorter shared secret can be guessed; Keycloak's sender takes any length."""
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class DaemonSettings(Section):
    """``offboard run``: event polling, webhooks, periodic reconciliation, its two listeners."""

    poll_interval: Duration = timedelta(seconds=1)
    """How often Keycloak's admin events are polled. Half of it is the average wait before a
    leaver is noticed; one poll is one small request, so a short interval is cheap. Must be
    longer than zero."""
    reconcile_interval: Duration = timedelta(minutes=15)
    """How often a full reconciliation runs (the authoritative safety net). Must be longer than
    zero."""
    listen_host: str = "127.0.0.1"
    """Address of the operations listener (console, /metrics, /healthz, /readyz). Keep it
    on loopback unless a scraper elsewhere needs it."""
    listen_port: int = Field(default=8080, ge=1, le=65535)
    """Port of the operations listener."""
    webhook_host: str = "127.0.0.1"
    """Address of the webhook listener (``POST /webhooks/keycloak`` and ``/healthz`` only).
    Anything but loopback needs ``tls_cert_file`` and ``tls_key_file``."""
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    """Port of the webhook listener; it only runs when a webhook secret is set."""
    tls_cert_file: Path | None = None
    """PEM certificate chain for the webhook listener; re-read when the file changes."""
    tls_key_file: Path | None = None
    """PEM private key for ``tls_cert_file``; re-read when the file changes."""
    webhook_secret: SecretStr | None = None
    """Shared secret that signs incoming webhooks (at least 16 characters); webhooks are
    refused without one."""
    webhook_secret_file: Path | None = None
    """A file holding the webhook secret."""
    webhook_window: Duration = timedelta(minutes=15)
    """Deliveries dated further than this from now are refused (captured ones replayed)."""
    header_timeout: Duration = timedelta(seconds=10)
    """How long a client has to send a request's headers before its connection is closed
    (more than zero, at most 5m)."""
    keep_alive_timeout: Duration = timedelta(seconds=5)
    """How long an idle keep-alive connection stays open (more than zero, at most 5m)."""
    max_connections: int = Field(default=1000, ge=1, le=100_000)
    """Open connections per listener; beyond it new requests are answered 503."""
    max_backlog: int = Field(default=5000, ge=1, le=1_000_000)
    """People with queued re-checks; beyond it events are dropped and a full reconciliation
    runs instead (departures get twice the room)."""
    wave_linger: Duration = timedelta(milliseconds=300)
    """Events that arrive together are planned together, as one wave: after the first event,
    the daemon waits this long for the rest of a burst before it plans (0s to 10s)."""
    wave_max_people: int = Field(default=500, ge=1, le=10_000)
    """At most this many people in one wave; a larger burst is planned in several waves."""
    shutdown_grace: Duration = timedelta(seconds=20)
    """On SIGTERM, how long work in flight may take before it is cut short (an action cut
    short is settled at the next start); the process exits within about this time."""
    lease_ttl: Duration = timedelta(seconds=30)
    """How long a replica's leadership lease lasts without renewal; must be longer than zero.
    Each take-over bumps a fencing token that every write checks, so a replica paused past
    its lease sends and records nothing more. `offboard apply` takes the same lease."""
    reconfirm_after: Duration = timedelta(seconds=5)
    """An action whose plan is older than this re-reads its person in Keycloak just before it
    is sent, and is skipped (and journaled why) when they are no longer leaving. ``0s``
    re-reads before every action."""

    @model_validator(mode="after")
    def _positive(self) -> DaemonSettings:
        """A zero or negative interval would spin, or make every lease expire at once."""
        for key in ("poll_interval", "reconcile_interval", "lease_ttl"):
            if getattr(self, key) <= timedelta(0):
                raise ValueError(f"{key}: must be longer than zero (got {getattr(self, key)})")
        if not timedelta(0) <= self.wave_linger <= timedelta(seconds=10):
            raise ValueError("wave_linger: must be between 0s and 10s")
        if self.reconfirm_after < timedelta(0):
            raise ValueError("reconfirm_after: must not be negative")
        for key in ("header_timeout", "keep_alive_timeout"):
            if not timedelta(0) < getattr(self, key) <= timedelta(minutes=5):
                raise ValueError(f"{key}: must be more than zero and at most 5m")
        return self

    @model_validator(mode="after")
    def _resolve(self) -> DaemonSettings:
        secret = read_secret(self.webhook_secret, self.webhook_secret_file, "webhook_secret")
        if secret is not None and len(secret.get_secret_value()) < MIN_WEBHOOK_SECRET_LENGTH:
            raise ValueError(
                f"webhook_secret: shorter than {MIN_WEBHOOK_SECRET_LENGTH} characters; "
                "generate one, e.g. `openssl rand -hex 32`"
            )
        object.__setattr__(self, "webhook_secret", secret)
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_key_file: set both tls_cert_file and tls_key_file, or neither")
        if self.webhook_host not in _LOOPBACK and self.tls_cert_file is None:
            raise ValueError(
                "webhook_host: serving webhooks beyond loopback needs TLS: set tls_cert_file "
                "and tls_key_file, or keep 127.0.0.1 behind a TLS reverse proxy"
            )
        if self.webhook_port == self.listen_port and self.webhook_host == self.listen_host:
            raise ValueError("webhook_port: must differ from listen_port on the same host")
        return self

    @property
    def webhook_tls(self) -> bool:
        return self.tls_cert_file is not None


class LoggingSettings(Section):
    """Structured logs on standard error."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    """The lowest level written."""
    format: Literal["json", "console"] = "json"
    """``json`` (one object per line) or ``console`` (for people)."""
