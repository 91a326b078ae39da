"""The ``[licences]`` section: the daily licence check, its prices, the inactivity policy,
leavers' API tokens, and the SMTP server that sends the inactivity warnings."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from offboard.settings.values import Duration, Section, read_secret


class InactivitySettings(Section):
    """Inactivity policy (off by default): warn, then take access away, then maybe delete."""

    enabled: bool = False
    """Act on people who stopped using Atlassian; only reported while false."""
    warn_after: Duration = timedelta(days=90)
    """After this long without use, the person and their manager (or the admin) are warned."""
    remove_after: Duration = timedelta(days=30)
    """This long after the warning, access is taken away (``action``)."""
    action: Literal["suspend", "deactivate"] = "suspend"
    """``suspend`` removes product access in this org; ``deactivate`` disables the account."""
    delete_after: Duration | None = None
    """This long after access was taken away, delete the account; unset never deletes."""
    exempt_groups: list[str] = Field(default_factory=list)
    """Keycloak groups (path or name) whose members are never acted on for inactivity."""
    exempt_emails: list[str] = Field(default_factory=list)
    """People never acted on for inactivity."""
    exempt_account_ids: list[str] = Field(default_factory=list)
    """Atlassian account ids never acted on for inactivity."""
    manager_attribute: str | None = "manager_email"
    """Keycloak attribute holding the manager's email, who is copied on the warning."""
    admin_email: str | None = None
    """Copied on the warning when the person has no manager."""


class SmtpSettings(Section):
    """The mail server that sends the inactivity warnings (STARTTLS by default)."""

    host: str | None = None
    """SMTP host; this server is not used while unset."""
    port: int = Field(default=587, ge=1, le=65535)
    """SMTP port (587 for STARTTLS, 465 for implicit TLS)."""
    security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` (default), ``tls`` (implicit) or ``none`` (only for a local relay)."""
    username: str | None = None
    """Login, when the server wants one."""
    password: SecretStr | None = None
    """Password; give it in the environment (the variable named on the right) or in
    ``password_file``, not in the file."""
    password_file: Path | None = None
    """A file holding the password."""
    sender: str = "offboard@localhost"
    """The ``From`` address."""
    ca_bundle: Path | None = None
    """A private CA bundle trusted (on top of the system's) for the server's certificate."""

    @model_validator(mode="after")
    def _resolve(self) -> SmtpSettings:
        object.__setattr__(
            self, "password", read_secret(self.password, self.password_file, "password")
        )
        return self


class LicenceSettings(Section):
    """The licence check: seats held by leavers, inactive people and orphans, and their cost."""

    daily_at: time | None = None
    """UTC time of day the daemon runs the check (``"06:30"``); unset: no daily check."""
    inactive_days: int = Field(default=90, ge=1)
    """Reports count someone as inactive after this many days without use."""
    prices: dict[str, float] = Field(default_factory=dict)
    """Monthly price of one seat per product key (``jira-software = 8.6``); ``"*"`` for
    the others. Without prices the report counts seats but no cost."""
    currency: str = "USD"
    """Currency of the prices, shown in the reports."""
    revoke_leaver_tokens: bool = False
    """Revoke every API token of each account offboard deprovisions (listed in the plan)."""
    inactivity: InactivitySettings = InactivitySettings()
    """The inactivity policy."""
    smtp: SmtpSettings = SmtpSettings()
    """Mail for the inactivity warnings."""
