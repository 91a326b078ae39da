"""Credential expiry, wired: config check lines, /readyz warnings, a gauge and log lines.

Atlassian does not tell an API caller when its own key expires, so the dates come from the
configuration (``atlassian.api_key_expires_on``, ``atlassian.scim_api_key_expires_on``):
Atlassian shows them when the key is created. The words live in
:mod:`offboard.core.credentials`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import structlog

from offboard.core.credentials import WARN_DAYS, expiry_notice
from offboard.ports import CheckResult

if TYPE_CHECKING:  # the daemon's side only: a one-shot command imports neither
    from offboard.server.metrics import Metrics
    from offboard.service.status import DaemonStatus
    from offboard.settings import Settings

log = structlog.get_logger(__name__)


def known_expiries(settings: Settings) -> dict[str, date]:
    """Credential name → expiry date, for the credentials in use whose expiry is known."""
    at = settings.atlassian
    found = {"atlassian.api_key": at.api_key_expires_on}
    if at.scim_configured:
        found["atlassian.scim_api_key"] = at.scim_api_key_expires_on
    return {name: when for name, when in found.items() if when is not None}


def credential_checks(settings: Settings, today: date) -> list[CheckResult]:
    """One line per credential with a known expiry: OK, WARN within 30 days, FAIL expired;
    and a WARN for a credential whose expiry is unknown (it will expire within a year)."""
    results: list[CheckResult] = []
    known = known_expiries(settings)
    for name, expires_on in sorted(known.items()):
        notice = expiry_notice(name, expires_on, today)
        if notice is None:
            detail = f"expires on {expires_on.isoformat()}"
            results.append(CheckResult(f"{name}.expiry", True, detail))
        else:
            warning = not notice.expired
            line = CheckResult(
                f"{name}.expiry", warning, notice.message, notice.how_to_renew, warning=warning
            )
            results.append(line)
    in_use = ["atlassian.api_key"] + (
        ["atlassian.scim_api_key"] if settings.atlassian.scim_configured else []
    )
    for name in in_use:
        if name not in known:
            detail = "expiry unknown: Atlassian keys expire within a year"
            fix = f"set {name}_expires_on to the date shown when the key was created"
            results.append(CheckResult(f"{name}.expiry", True, detail, fix, warning=True))
    return results


def _days_left(status: DaemonStatus, expires_on: date) -> Callable[[], float]:
    return lambda: float((expires_on - status.clock.now().date()).days)


def watch_credentials(settings: Settings, status: DaemonStatus, metrics: Metrics) -> None:
    """Give the daemon the known expiry dates: /readyz warns (30, 14, 7 days ahead), the
    gauge counts the days left, and a log line says what is due now."""
    today = status.clock.now().date()
    for name, expires_on in known_expiries(settings).items():
        status.credential_expiry[name] = expires_on
        metrics.credential_expiry_days.labels(name).set_function(_days_left(status, expires_on))
        notice = expiry_notice(name, expires_on, today)
        if notice is not None:
            log.warning(
                "credential expiring" if not notice.expired else "credential expired",
                credential=name,
                expires_on=expires_on.isoformat(),
                days_left=notice.days_left,
                warn_days=list(WARN_DAYS),
                renew=notice.how_to_renew,
            )
