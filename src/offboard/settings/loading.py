"""The whole configuration, and loading it from the file and the environment."""

from __future__ import annotations

import json
import os
import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from offboard.core.policy import ActionKind, Policy, Thresholds
from offboard.settings.console import ConsoleSettings
from offboard.settings.environment import (
    key_meant,
    maybe_setting,
    structured_names,
    unknown_variables,
)
from offboard.settings.licences import LicenceSettings
from offboard.settings.locations import resolve_file_locations
from offboard.settings.notifications import NotificationSettings
from offboard.settings.policy import PolicySettings
from offboard.settings.provisioning import ProvisioningSettings
from offboard.settings.runtime import DaemonSettings, LoggingSettings, StoreSettings
from offboard.settings.sources import AtlassianSettings, KeycloakSettings
from offboard.settings.values import ConfigError

CONFIG_ENV = "OFFBOARD_CONFIG"
_READ_ENVIRONMENT: ContextVar[bool] = ContextVar("offboard_settings_read_environment", default=True)
DEFAULT_CONFIG = Path("offboard.toml")


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix="OFFBOARD_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    keycloak: KeycloakSettings
    """The identity source."""
    atlassian: AtlassianSettings
    """The target organization."""
    policy: PolicySettings = PolicySettings()
    """Rules, protections and guards."""
    store: StoreSettings = StoreSettings()
    """The state database."""
    daemon: DaemonSettings = DaemonSettings()
    """The long-running service."""
    logging: LoggingSettings = LoggingSettings()
    """Logs."""
    licences: LicenceSettings = LicenceSettings()
    """The daily licence check, the inactivity policy and leavers' API tokens."""
    provisioning: ProvisioningSettings = ProvisioningSettings()
    """Joiners and movers pushed to Atlassian by SCIM (off by default)."""
    notifications: NotificationSettings = NotificationSettings()
    """Email, Slack and signed-webhook notifications when a human is needed (off by default)."""
    console: ConsoleSettings = ConsoleSettings()
    """The operator's console and its login through Keycloak (off until configured)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's content arrives as init arguments; the environment overrides it.
        return (env_settings, init_settings) if _READ_ENVIRONMENT.get() else (init_settings,)

    @classmethod
    def from_values(cls, data: dict[str, Any]) -> Settings:
        """Settings from these values alone, ignoring ``OFFBOARD_*`` (the demo, emulate)."""
        token = _READ_ENVIRONMENT.set(False)
        try:
            return cls(**data)
        except ValidationError as exc:
            raise ConfigError("invalid configuration:", describe(exc)) from None
        finally:
            _READ_ENVIRONMENT.reset(token)

    def policy_model(self) -> Policy:
        """The planner's policy, from the ``policy``, ``keycloak`` and ``atlassian`` sections."""
        p = self.policy
        protected_ids = set(p.protected_account_ids)
        if self.atlassian.key_owner_account_id:
            protected_ids.add(self.atlassian.key_owner_account_id)
        return Policy(
            domains=frozenset(d.strip().lower() for d in p.domains),
            protected_emails=frozenset(e.strip().lower() for e in p.protected_emails),
            protected_account_ids=frozenset(protected_ids),
            allow_org_admins=p.allow_org_admins,
            scope=self.keycloak.scope,
            match_attribute=p.match_attribute,
            grace_period=p.grace_period,
            reactivate=p.reactivate,
            delete_after=p.delete_after,
            actions={c: None if a == "none" else ActionKind(a) for c, a in p.actions.items()},
            scim_directory_configured=self.atlassian.scim_configured,
            adopt_unlinked=p.adopt_unlinked,
            permanent_lockout_is_leaver=p.permanent_lockout_is_leaver,
            thresholds=Thresholds(**p.thresholds.model_dump()),
            budget=p.budget.model(),
        )


def config_path(explicit: Path | None = None) -> Path:
    """The file to read: ``--config``, else ``$OFFBOARD_CONFIG``, else ``./offboard.toml``."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else DEFAULT_CONFIG


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables, or a ConfigError saying what is wrong with it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no configuration file at {path}: run `offboard config init` to write one, "
            f"or pass --config PATH (or set {CONFIG_ENV})"
        ) from None
    except PermissionError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}: give the user offboard runs as read access "
            "to it (a file holding secrets: mode 0640 or 0600)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def load_settings(path: Path | None = None, *, require_file: bool = False) -> Settings:
    """Read and validate the configuration; raises ConfigError listing every problem.

    Without an explicit path a missing default file is fine when the environment holds the
    whole configuration; ``require_file`` makes it an error anyway. Relative paths in the file
    are resolved against its folder; those from ``OFFBOARD_*`` against the working directory.
    """
    source = config_path(path)
    data: dict[str, Any] = {}
    from_env_only = not source.exists() and any(maybe_setting(name) for name in os.environ)
    if path is not None or require_file or not from_env_only:
        # Relative paths in the file mean "beside this file", wherever the command runs.
        data = resolve_file_locations(Settings, read_toml(source), source.absolute().parent)
    unknown = unknown_variables(Settings, os.environ)
    if unknown:
        # Ignored, a typo would leave e.g. a protection list empty without a word.
        raise ConfigError("unknown environment variable:", unknown)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration ({source}):", describe(exc)) from None
    except SettingsError as exc:
        raise ConfigError("invalid environment variable:", environment_problems(exc)) from None


def environment_problems(error: SettingsError) -> list[str]:
    """Which ``OFFBOARD_*`` variables of the failing section are not the JSON they must be.

    Each is named: a list of one item (``acme.example``) has no bracket or comma to give it
    away, and a section given a value (``OFFBOARD_KEYCLOAK``) is not under ``..._KEYCLOAK__``.
    """
    field = re.search(r'field "(\w+)"', str(error))
    section = f"OFFBOARD_{field[1].upper()}" if field else "OFFBOARD"
    sections, structured = structured_names(Settings)
    found = []
    for name in sorted(os.environ):
        upper = name.upper()  # pydantic-settings reads the names case-insensitively
        if upper == section or upper.startswith(f"{section}_"):
            problem = _not_json(name, os.environ[name], sections, structured)
            if problem:
                found.append(problem)
    return found or [f"{section}__*: a list or table value is not valid JSON ({_JSON_HINT})"]


_JSON_HINT = (
    "lists and tables are written as JSON, e.g. OFFBOARD_POLICY__DOMAINS='[\"example.com\"]'"
)


def _not_json(name: str, value: str, sections: dict[str, str], structured: set[str]) -> str | None:
    """The problem with this variable, when it must be JSON and is not (never its value)."""
    try:
        json.loads(value)
        return None
    except ValueError:
        pass
    upper = name.upper()
    if upper in sections:
        return f"{name}: a section, not a setting: set its keys, e.g. {sections[upper]}"
    stripped = value.strip()
    if upper in structured or stripped[:1] in "[{" or "," in stripped:
        return f"{name}: not valid JSON ({_JSON_HINT})"
    return None


def describe(error: ValidationError) -> list[str]:
    """One ``section.key: problem`` line per validation error, never echoing a value (a
    choice's wrong word excepted: choices are never secrets)."""
    lines = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        where = ".".join(loc) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        key = re.match(r"(\w+): ", message)
        if key and item["type"] == "value_error":
            # Section validators name the key they complain about.
            where, message = f"{where}.{key[1]}", message[key.end() :]
        if item["type"] == "missing" and len(item["loc"]) == 1:
            message = f"the [{where}] section is missing"
        elif item["type"] == "missing":
            env = "OFFBOARD_" + where.upper().replace(".", "__")
            message = f"missing (set it in the file or as {env})"
        elif item["type"] == "extra_forbidden":
            meant = key_meant(Settings, tuple(loc))
            message = (
                f"unknown key; did you mean {meant}?"
                if meant
                else "unknown key (check its spelling against `offboard config init`)"
            )
        elif item["type"] in ("literal_error", "enum"):
            if loc[-1:] == ["[key]"]:  # a table's key (policy.actions.<class>), not its value
                where = ".".join(loc[:-2])
            choices = str(item.get("ctx", {}).get("expected", "")).replace("'", "")
            message = f"{str(item['input'])[:60]!r} is not accepted: use {_toml_words(choices)}"
        elif item["type"] in _PLAIN:
            message = _PLAIN[item["type"]]
        elif item["type"] in _BOUNDS:
            message = _bound_message(item["type"], item["input"], item.get("ctx", {}))
        lines.append(f"{where}: {message}")
    return lines


def _toml_words(choices: str) -> str:
    """Python's True and False as a TOML file spells them (verify_tls said "use True", which
    the file refuses)."""
    return re.sub(r"\b(True|False)\b", lambda word: word[0].lower(), choices)


_BOUNDS = {
    "greater_than_equal": ("ge", "too small: at least"),
    "greater_than": ("gt", "too small: more than"),
    "less_than_equal": ("le", "too large: at most"),
    "less_than": ("lt", "too large: less than"),
}
"""pydantic's bound errors, as the context key holding the bound and offboard's words."""


def _bound_message(kind: str, given: object, ctx: dict[str, Any]) -> str:
    """``99999 is too large: at most 65535``: the value is shown only when it is a number (a
    bound applies to numbers, never to a secret)."""
    key, words = _BOUNDS[kind]
    shown = f"{given} is " if isinstance(given, int | float) else ""
    return f"{shown}{words} {ctx.get(key)}"


_PLAIN = {
    "time_parsing": 'not a time of day: write HH:MM (UTC), e.g. "06:30"',
    "time_type": 'not a time of day: write HH:MM (UTC), e.g. "06:30"',
    "date_parsing": "not a date: write YYYY-MM-DD, e.g. 2027-03-01",
    "date_from_datetime_parsing": "not a date: write YYYY-MM-DD, e.g. 2027-03-01",
    "date_type": "not a date: write YYYY-MM-DD, e.g. 2027-03-01",
    "float_parsing": "not a number: write digits only, without quotes or a unit (e.g. 30)",
    "int_parsing": "not a whole number: write digits only, without quotes or a unit (e.g. 30)",
    "int_from_float": "not a whole number: write digits only, without a fraction (e.g. 30)",
    "string_type": 'not text: write it in quotes, e.g. "abc"',
    "list_type": 'not a list: write ["a", "b"] (one item is ["a"])',
    "dict_type": "not a table: write { key = value, ... } or a [section.key] table",
    "bool_parsing": "not true or false: write true or false, without quotes",
    "bool_type": "not true or false: write true or false, without quotes",
}
"""pydantic's wording for a bad time, date, number, text, list, table or switch, replaced by
what to write (it never echoes the value: a secret of the wrong type would be shown)."""
