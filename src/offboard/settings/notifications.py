"""The ``[notifications]`` section: who is told when a human is needed, and how often.

Three kinds of channel, each off until configured: email (SMTP), a Slack-compatible
incoming webhook, and a signed JSON webhook. Webhook URLs are secrets (whoever holds one can
post), like the SMTP password and the signing key: give them in the environment or in
``*_file`` keys; they are never printed.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from offboard.core.notifications import Kind
from offboard.settings.licences import SmtpSettings
from offboard.settings.values import Duration, Section, read_secret, secure_url

NOTIFYING_KINDS = [k for k in Kind if k not in (Kind.DIGEST, Kind.TEST)]


def _all_kinds() -> list[Kind]:
    return list(NOTIFYING_KINDS)


class NotificationSmtpSettings(SmtpSettings):
    """The mail server that sends the notification emails (STARTTLS by default); while its
    ``host`` is unset, ``[licences.smtp]`` sends them."""


class EmailChannelSettings(Section):
    """Notifications by email, through ``smtp`` (or ``[licences.smtp]`` when its host is unset)."""

    to: list[str] = Field(default_factory=list)
    """Recipients; the channel is off while empty."""
    kinds: list[Kind] = Field(default_factory=_all_kinds)
    """Which kinds this channel is told (default: all)."""
    smtp: NotificationSmtpSettings = NotificationSmtpSettings()
    """The mail server (password: ``OFFBOARD_NOTIFICATIONS__EMAIL__SMTP__PASSWORD`` or
    ``password_file``)."""


class SlackChannelSettings(Section):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat)."""

    url: SecretStr | None = None
    """The incoming-webhook URL, a secret (``OFFBOARD_NOTIFICATIONS__SLACK__URL``); off while
    unset."""
    url_file: Path | None = None
    """A file holding the URL."""
    kinds: list[Kind] = Field(default_factory=_all_kinds)
    """Which kinds this channel is told (default: all)."""

    @model_validator(mode="after")
    def _resolve(self) -> SlackChannelSettings:
        url = read_secret(self.url, self.url_file, "url")
        if url is not None:
            secure_url("url", url.get_secret_value(), secret=True)
        object.__setattr__(self, "url", url)
        return self


class WebhookChannelSettings(Section):
    """A generic JSON webhook, signed with HMAC-SHA256 (see docs/howto/notifications.md)."""

    url: SecretStr | None = None
    """The receiver's URL, a secret (``OFFBOARD_NOTIFICATIONS__WEBHOOK__URL``); off while unset."""
    url_file: Path | None = None
    """A file holding the URL."""
    signing_key: SecretStr | None = None
    """The shared HMAC key the receiver verifies with (required with ``url``; at least 32
    characters)."""
    signing_key_file: Path | None = None
    """A file holding the signing key."""
    kinds: list[Kind] = Field(default_factory=_all_kinds)
    """Which kinds this channel is told (default: all)."""

    @model_validator(mode="after")
    def _resolve(self) -> WebhookChannelSettings:
        url = read_secret(self.url, self.url_file, "url")
        key = read_secret(self.signing_key, self.signing_key_file, "signing_key")
        if url is not None:
            secure_url("url", url.get_secret_value(), secret=True)
            if key is None:
                raise ValueError("signing_key: required with url (or signing_key_file)")
        if key is not None and len(key.get_secret_value()) < 32:
            raise ValueError("signing_key: at least 32 characters")
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "signing_key", key)
        return self


class NotificationSettings(Section):
    """Notifications when a human is needed: holds, guard trips, blocked people, failed
    actions, credentials close to expiry, the daemon not ready."""

    console_url: str | None = None
    """The console's address, put in every message (e.g. ``https://offboard.example.com``)."""
    check_every: Duration = timedelta(seconds=30)
    """How often the leader looks for conditions to notify."""
    not_ready_after: Duration = timedelta(minutes=15)
    """Notify when the daemon has not been ready for this long."""
    rate_limit: int = Field(default=20, ge=1)
    """At most this many messages per channel per ``rate_period``; the rest wait their turn."""
    rate_period: Duration = timedelta(hours=1)
    """The sliding window of ``rate_limit``."""
    digest_at: time | None = None
    """UTC time of day for a digest of everything still needing a human (``"08:00"``);
    unset: no digest. Sent only when something is open."""
    max_attempts: int = Field(default=5, ge=1)
    """Checks at which a failing delivery is tried (each with a few quick retries)."""
    email: EmailChannelSettings = EmailChannelSettings()
    """The email channel."""
    slack: SlackChannelSettings = SlackChannelSettings()
    """The Slack-compatible webhook channel."""
    webhook: WebhookChannelSettings = WebhookChannelSettings()
    """The signed JSON webhook channel."""

    @model_validator(mode="after")
    def _check(self) -> NotificationSettings:
        if self.console_url is not None:
            object.__setattr__(self, "console_url", secure_url("console_url", self.console_url))
        if self.check_every <= timedelta(0) or self.rate_period <= timedelta(0):
            raise ValueError("check_every: must be longer than zero (and rate_period too)")
        return self

    @property
    def configured(self) -> list[str]:
        """The names of the channels that are on."""
        names = ["email"] if self.email.to else []
        names += ["slack"] if self.slack.url is not None else []
        names += ["webhook"] if self.webhook.url is not None else []
        return names
