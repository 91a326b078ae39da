"""The ``[store]``, ``[daemon]`` and ``[logging]`` sections: how offboard runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from offboard.settings.values import Duration, Section, read_secret


class StoreSettings(Section):
    """Where offboard keeps links, runs, plans and the journal."""

    path: Path | None = None
    """A SQLite file; default ``$XDG_STATE_HOME/offboard/offboard.sqlite3``."""
    url: SecretStr | None = None
    """A database URL instead, e.g. ``postgresql+psycopg://offboard@db/offboard``."""

    @model_validator(mode="after")
    def _one_of(self) -> StoreSettings:
        if self.path is not None and self.url is not None:
            raise ValueError("url: set store.path or store.url, not both")
        return self

    def location(self) -> Path | str | None:
        """The path or URL to open, or None for the store's default place."""
        return self.url.get_secret_value() if self.url is not None else self.path


class DaemonSettings(Section):
    """``offboard run``: event polling, webhooks, periodic reconciliation."""

    poll_interval: Duration = timedelta(seconds=1)
    """How often Keycloak's admin events are polled. Half of it is the average wait before a
    leaver is noticed; one poll is one small request, so a short interval is cheap. Must be
    longer than zero."""
    reconcile_interval: Duration = timedelta(minutes=15)
    """How often a full reconciliation runs (the authoritative safety net). Must be longer than
    zero."""
    listen_host: str = "127.0.0.1"
    """Address of the HTTP server (webhooks, /metrics, /healthz, /readyz)."""
    listen_port: int = Field(default=8080, ge=1, le=65535)
    """Port of the HTTP server."""
    webhook_secret: SecretStr | None = None
    """Shared secret that signs incoming webhooks; webhooks are refused without one."""
    webhook_secret_file: Path | None = None
    """A file holding the webhook secret."""
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
        if self.reconfirm_after < timedelta(0):
            raise ValueError("reconfirm_after: must not be negative")
        return self

    @model_validator(mode="after")
    def _resolve(self) -> DaemonSettings:
        secret = read_secret(self.webhook_secret, self.webhook_secret_file, "webhook_secret")
        object.__setattr__(self, "webhook_secret", secret)
        return self


class LoggingSettings(Section):
    """Structured logs on standard error."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    """The lowest level written."""
    format: Literal["json", "console"] = "json"
    """``json`` (one object per line) or ``console`` (for people)."""
