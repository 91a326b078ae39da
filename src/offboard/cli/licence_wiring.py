"""Build the licence check's pieces from the settings: its config, its notifier."""

from __future__ import annotations

from datetime import datetime

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.atlassian_org.usage import UsageReader
from offboard.adapters.mail import SmtpNotifier
from offboard.core.inactivity import InactivityPolicy
from offboard.core.licences import ReportOptions
from offboard.core.policy import ActionKind
from offboard.executor.preflight import Preflight
from offboard.ports import Clock, IdentitySource, Notifier, Store
from offboard.service.leasing import Lease
from offboard.service.licence_pass import LicenceConfig, LicencePassResult, licence_pass
from offboard.service.licence_schedule import DailyLicenceCheck
from offboard.settings import Settings
from offboard.settings.values import ConfigError
from offboard.store import SqlStore


def licence_config(settings: Settings, inactive_days: int | None = None) -> LicenceConfig:
    """``[licences]`` as the plain data the licence pass reads."""
    section = settings.licences
    rules = section.inactivity
    return LicenceConfig(
        options=ReportOptions(
            inactive_days=inactive_days or section.inactive_days,
            prices=dict(section.prices),
            currency=section.currency,
        ),
        rules=InactivityPolicy(
            enabled=rules.enabled,
            warn_after=rules.warn_after,
            remove_after=rules.remove_after,
            remove_with=ActionKind(rules.action),
            delete_after=rules.delete_after,
            exempt_groups=frozenset(rules.exempt_groups),
            exempt_emails=frozenset(e.strip().lower() for e in rules.exempt_emails),
            exempt_account_ids=frozenset(rules.exempt_account_ids),
            revoke_leaver_tokens=section.revoke_leaver_tokens,
        ),
        policy=settings.policy_model(),
        manager_attribute=rules.manager_attribute,
        admin_email=rules.admin_email,
    )


NO_MAIL_SERVER = (
    "licences.inactivity.enabled needs [licences.smtp] host, the mail server that sends the "
    "warnings: nothing is removed before a warning was sent, so without one the policy "
    "would never act"
)


def build_notifier(settings: Settings, *, acting: bool = False) -> Notifier | None:
    """The SMTP notifier of ``[licences.smtp]``, or None when no host is set.

    ``acting`` (an apply, the daemon's daily pass) with the inactivity policy on and no
    host is a configuration error: each warning would fail, every day, silently."""
    smtp = settings.licences.smtp
    if smtp.host is None:
        if acting and settings.licences.inactivity.enabled:
            raise ConfigError(NO_MAIL_SERVER)
        return None
    return SmtpNotifier(
        smtp.host,
        smtp.port,
        security=smtp.security,
        username=smtp.username,
        password=smtp.password,
        sender=smtp.sender,
        ca_bundle=smtp.ca_bundle,
    )


def daily_check(
    settings: Settings,
    source: IdentitySource,
    directory: AtlassianDirectory,
    store: Store,
    clock: Clock,
    lease: Lease | None = None,
) -> DailyLicenceCheck | None:
    """The daemon's daily licence pass, when ``licences.daily_at`` is set (and the store
    keeps the licence history, as the SQL store does); its writes are fenced by ``lease``,
    the daemon's leader lease, as of the moment the check runs."""
    at = settings.licences.daily_at
    if at is None or not isinstance(store, SqlStore):
        return None
    config = licence_config(settings)
    notifier = build_notifier(settings, acting=True)
    usage = UsageReader(directory.org)

    def last_check() -> datetime | None:
        latest = store.licence_reports(limit=1)
        return latest[0][0] if latest else None

    async def check() -> LicencePassResult:
        fence = lease.fence if lease is not None else None
        preflight = Preflight(fence, source, settings.daemon.reconfirm_after)
        return await licence_pass(
            source, directory, usage, store, notifier, clock, config, preflight=preflight
        )

    return DailyLicenceCheck(check, last_check, at, clock)
