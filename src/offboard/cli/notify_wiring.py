"""Notification channels and the daemon's notifications, built from ``[notifications]``.

Wiring only: the channels are the adapters (SMTP, Slack-compatible, signed webhook), the
decisions live in ``core.notifications`` and the loop in ``service.notifying``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack
from datetime import timedelta

from offboard.adapters.http import build_client
from offboard.adapters.mail import SmtpNotifier
from offboard.adapters.signed_webhook import SignedWebhook
from offboard.adapters.slack import SlackWebhook
from offboard.cli.wiring import verifying_transport
from offboard.core.notifications import Kind, Routing
from offboard.ports import Clock, Store
from offboard.service.mail_channel import MailChannel
from offboard.service.notifying import Channel, Counters, Notifications, NotifyConfig
from offboard.service.status import DaemonStatus
from offboard.settings import Settings
from offboard.settings.notifications import NOTIFYING_KINDS
from offboard.store import SqlStore
from offboard.store.notifications import MemoryNotifications, StoredNotifications


def build_channels(settings: Settings, stack: AsyncExitStack, clock: Clock) -> dict[str, Channel]:
    """The configured channels by name; ``stack`` closes their HTTP client."""
    section = settings.notifications
    channels: dict[str, Channel] = {}
    if section.email.to:
        smtp = section.email.smtp if section.email.smtp.host else settings.licences.smtp
        if smtp.host is not None:
            notifier = SmtpNotifier(
                smtp.host, smtp.port, security=smtp.security, username=smtp.username,
                password=smtp.password, sender=smtp.sender, ca_bundle=smtp.ca_bundle,
            )  # fmt: skip
            channels["email"] = MailChannel(notifier, section.email.to)
    if section.slack.url is None and section.webhook.url is None:
        return channels
    client = build_client("", transport=verifying_transport())
    stack.push_async_callback(client.aclose)
    if section.slack.url is not None:
        channels["slack"] = SlackWebhook(section.slack.url, client)
    if section.webhook.url is not None and section.webhook.signing_key is not None:
        channels["webhook"] = SignedWebhook(
            section.webhook.url, section.webhook.signing_key, client, now=clock.now
        )
    return channels


def routing(settings: Settings, names: list[str]) -> Routing:
    """Which kinds each configured channel wants."""
    section = settings.notifications
    wanted = {"email": section.email.kinds, "slack": section.slack.kinds,
              "webhook": section.webhook.kinds}  # fmt: skip
    return Routing(
        {name: frozenset(wanted[name]) | {Kind.TEST} for name in names},
        max_attempts=section.max_attempts,
    )


def build_notifications(
    settings: Settings,
    stack: AsyncExitStack,
    status: DaemonStatus,
    store: Store,
    clock: Clock,
    readiness_limits: Mapping[str, timedelta],
    counters: Counters,
) -> Notifications | None:
    """The daemon's notifications, or None when no channel is configured."""
    channels = build_channels(settings, stack, clock)
    if not channels:
        return None
    section = settings.notifications
    state = (
        StoredNotifications(store.engine) if isinstance(store, SqlStore) else MemoryNotifications()
    )
    config = NotifyConfig(
        routing=routing(settings, list(channels)),
        readiness_limits=readiness_limits,
        console_url=section.console_url,
        check_every=section.check_every.total_seconds(),
        not_ready_after=section.not_ready_after,
        rate_limit=section.rate_limit,
        rate_period=section.rate_period,
        digest_at=section.digest_at,
    )
    return Notifications(status, state, channels, config, clock, counters)


def known_kinds() -> list[str]:
    """Every kind a channel can be told, for pre-labelling the counters."""
    return [str(kind) for kind in NOTIFYING_KINDS]
