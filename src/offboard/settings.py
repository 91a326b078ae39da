"""Configuration: a TOML file plus ``OFFBOARD_*`` environment variables, validated once.

The file is found at ``--config PATH``, else ``$OFFBOARD_CONFIG``, else ``./offboard.toml``.
Environment variables override the file and nest with ``__``, e.g.
``OFFBOARD_KEYCLOAK__CLIENT_SECRET_FILE``. Secrets are ``SecretStr``: they come from the
environment or from ``*_file`` keys and are never printed. Every problem is reported as
``section.key: problem`` in one :class:`ConfigError`. The attribute docstrings below are the
reference documentation (``docs/reference/configuration.md`` is generated from them).
"""

from __future__ import annotations

import os
import re
import tomllib
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, cast
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from offboard.core.accounts import AccountClass
from offboard.core.policy import DEFAULT_ACTIONS, ActionKind, Policy, Scope, Thresholds
from offboard.ports import OffboardError

CONFIG_ENV = "OFFBOARD_CONFIG"
_READ_ENVIRONMENT: ContextVar[bool] = ContextVar("offboard_settings_read_environment", default=True)
DEFAULT_CONFIG = Path("offboard.toml")
_DEFAULT_THRESHOLDS = Thresholds()
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ConfigError(OffboardError):
    """The configuration is missing or invalid; ``problems`` lists ``section.key: problem``."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = problems or []
        lines = [message, *(f"  {p}" for p in self.problems)]
        super().__init__("\n".join(lines))


def parse_duration(value: object) -> object:
    """``90``, ``"30s"``, ``"15m"``, ``"2h"``, ``"7d"``, ``"1w"`` (or ISO 8601) to a timedelta."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", value)
        if match:
            return timedelta(seconds=float(match[1]) * _UNITS[match[2] or "s"])
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _secure_url(key: str, url: str) -> str:
    """HTTPS everywhere; plain HTTP only to loopback (an emulator or a local proxy)."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{key}: {url!r} is not an http(s) URL")
    if parsed.scheme == "http" and parsed.hostname not in _LOOPBACK_HOSTS:
        raise ValueError(f"{key}: use https:// (plain http is only allowed to loopback)")
    return url.rstrip("/")


def _read_secret(inline: SecretStr | None, file: Path | None, key: str) -> SecretStr | None:
    if inline is not None and file is not None:
        raise ValueError(f"{key}: set {key} or {key}_file, not both")
    if file is None:
        return inline
    try:
        text = file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{key}_file: cannot read {file} ({exc.strerror})") from None
    if not text:
        raise ValueError(f"{key}_file: {file} is empty")
    return SecretStr(text)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class KeycloakSettings(_Section):
    """The Keycloak realm offboard reads identities and admin events from."""

    base_url: str = Field(examples=["https://sso.example.com"])
    """Keycloak's base URL, e.g. ``https://sso.example.com`` (without ``/admin``)."""
    realm: str = Field(examples=["staff"])
    """The realm whose users are offboarded."""
    client_id: str = "offboard"
    """Confidential client with a service account (client-credentials grant)."""
    client_secret: SecretStr | None = None
    """The client's secret; prefer ``client_secret_file`` or the environment."""
    client_secret_file: Path | None = None
    """A file holding the client secret (e.g. a systemd credential)."""
    scope_groups: list[str] = []
    """Only direct members of these groups (paths like ``/staff/eng``) are in scope."""
    scope_attribute: str | None = None
    """Only users with this attribute value are in scope, as ``name=value`` (not with groups)."""
    page_size: int = Field(default=100, ge=1, le=1000)
    """Users per page when listing the realm."""
    verify_tls: Literal[True] = True
    """TLS certificates are always verified; use ``ca_bundle`` for a private CA."""
    ca_bundle: Path | None = None
    """A PEM file of CA certificates to trust in addition to the system store."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for one HTTP response."""

    @model_validator(mode="after")
    def _resolve(self) -> KeycloakSettings:
        object.__setattr__(self, "base_url", _secure_url("base_url", self.base_url))
        secret = _read_secret(self.client_secret, self.client_secret_file, "client_secret")
        if secret is None:
            raise ValueError(
                "client_secret: missing (set OFFBOARD_KEYCLOAK__CLIENT_SECRET or "
                "keycloak.client_secret_file)"
            )
        object.__setattr__(self, "client_secret", secret)
        if self.scope_attribute is not None and not re.fullmatch(
            r"[^\s:=]+=[^\s]+", self.scope_attribute
        ):
            raise ValueError("scope_attribute: must read name=value (no blanks, no colon)")
        if self.scope_groups and self.scope_attribute:
            raise ValueError("scope_attribute: choose scope_groups or scope_attribute, not both")
        for group in self.scope_groups:
            if not group.startswith("/") or not group.strip("/"):
                raise ValueError(f"scope_groups: {group!r} is not a group path like /staff/eng")
        return self

    @property
    def scope(self) -> Scope:
        attribute = None
        if self.scope_attribute:
            name, _, value = self.scope_attribute.partition("=")
            attribute = (name.strip(), value.strip())
        return Scope(groups=frozenset(self.scope_groups), attribute=attribute)


class AtlassianSettings(_Section):
    """The Atlassian Cloud organization whose accounts offboard manages."""

    base_url: str = "https://api.atlassian.com"
    """The admin API's base URL; only changed to point at an emulator."""
    org_id: str = Field(examples=["0a1b2c3d-4e5f-6789-abcd-ef0123456789"])
    """The organization id (admin.atlassian.com → Settings → API keys shows it)."""
    directory_id: str | None = None
    """The org directory to act in; found automatically when the org has exactly one."""
    api_key: SecretStr | None = None
    """An organization API key created WITHOUT scopes; prefer ``api_key_file``."""
    api_key_file: Path | None = None
    """A file holding the organization API key."""
    key_owner_account_id: str | None = None
    """The account that owns the API key (never acted on); detected when left out."""
    scim_directory_id: str | None = None
    """The Atlassian SCIM directory of SCIM-linked accounts, if any."""
    scim_api_key: SecretStr | None = None
    """That SCIM directory's API key; without it SCIM-linked leavers are blocked."""
    scim_api_key_file: Path | None = None
    """A file holding the SCIM directory's API key."""
    rate_limit_per_second: float = Field(default=10.0, gt=0, le=1000)
    """Requests per second offboard allows itself towards Atlassian."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for one HTTP response."""

    @model_validator(mode="after")
    def _resolve(self) -> AtlassianSettings:
        object.__setattr__(self, "base_url", _secure_url("base_url", self.base_url))
        key = _read_secret(self.api_key, self.api_key_file, "api_key")
        if key is None:
            raise ValueError(
                "api_key: missing (set OFFBOARD_ATLASSIAN__API_KEY or atlassian.api_key_file)"
            )
        object.__setattr__(self, "api_key", key)
        scim = _read_secret(self.scim_api_key, self.scim_api_key_file, "scim_api_key")
        object.__setattr__(self, "scim_api_key", scim)
        if scim is not None and not self.scim_directory_id:
            raise ValueError("scim_directory_id: missing (scim_api_key is set)")
        return self

    @property
    def scim_configured(self) -> bool:
        return self.scim_directory_id is not None and self.scim_api_key is not None


class ThresholdSettings(_Section):
    """Blast-radius guards: a plan beyond them is blocked unless overridden for one run."""

    max_deactivations: int = Field(default=_DEFAULT_THRESHOLDS.max_deactivations, ge=0)
    """At most this many deprovisioning actions in one plan (guard ``max-deactivations``)."""
    max_deactivation_percent: float = Field(
        default=_DEFAULT_THRESHOLDS.max_deactivation_percent, ge=0, le=100
    )
    """At most this share of linked accounts in one plan (``max-deactivation-percent``)."""
    min_population: int = Field(default=_DEFAULT_THRESHOLDS.min_population, ge=0)
    """The percentage guard applies only from this many linked accounts on."""
    max_source_drop_percent: float = Field(
        default=_DEFAULT_THRESHOLDS.max_source_drop_percent, ge=0, le=100
    )
    """Refuse when Keycloak's user count fell more than this since the last full snapshot."""


ActionName = Literal["deactivate", "suspend", "scim_deactivate", "none"]


def _action_name(kind: ActionKind | None) -> ActionName:
    return "none" if kind is None else cast(ActionName, kind.value)


class PolicySettings(_Section):
    """What offboard may do, to whom (maps onto the planner's ``Policy``)."""

    domains: list[str] = []
    """Email domains in scope; empty means every domain the org verified."""
    protected_emails: list[str] = []
    """People offboard never acts on, whatever Keycloak says."""
    protected_account_ids: list[str] = []
    """Atlassian account ids offboard never acts on."""
    allow_org_admins: bool = False
    """Org admins are protected unless this is true."""
    match_attribute: str | None = None
    """A Keycloak attribute holding the Atlassian email; the Keycloak email otherwise."""
    grace_period: Duration = timedelta(0)
    """How long someone must stay a leaver before offboard acts (``0``, ``15m``, ``2h``, ``7d``)."""
    reactivate: bool = False
    """Give access back when a deprovisioned person is enabled again (offboard's own only)."""
    delete_after: Duration | None = None
    """Delete accounts offboard deactivated this long ago; unset (the default) never deletes."""
    actions: dict[AccountClass, ActionName] = Field(
        default_factory=lambda: {c: _action_name(k) for c, k in DEFAULT_ACTIONS.items()}
    )
    """Action per class: managed, unmanaged, scim_linked, google_synced; ``none`` only reports."""

    @field_validator("actions", mode="before")
    @classmethod
    def _over_defaults(cls, given: object) -> object:
        # A partial table changes the classes it names; the others keep their default.
        if not isinstance(given, dict):
            return given
        return {c.value: _action_name(k) for c, k in DEFAULT_ACTIONS.items()} | given

    adopt_unlinked: bool = False
    """Act on accounts that were never linked to a Keycloak identity before this plan."""
    permanent_lockout_is_leaver: bool = False
    """Treat a permanent brute-force lockout as leaving (it is an attack signal by default)."""
    thresholds: ThresholdSettings = ThresholdSettings()
    """The blast-radius guards."""


class StoreSettings(_Section):
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


class DaemonSettings(_Section):
    """``offboard run``: event polling, webhooks, periodic reconciliation."""

    poll_interval: Duration = timedelta(seconds=5)
    """How often Keycloak's admin events are polled."""
    reconcile_interval: Duration = timedelta(minutes=15)
    """How often a full reconciliation runs (the authoritative safety net)."""
    listen_host: str = "127.0.0.1"
    """Address of the HTTP server (webhooks, /metrics, /healthz, /readyz)."""
    listen_port: int = Field(default=8080, ge=1, le=65535)
    """Port of the HTTP server."""
    webhook_secret: SecretStr | None = None
    """Shared secret that signs incoming webhooks; webhooks are refused without one."""
    webhook_secret_file: Path | None = None
    """A file holding the webhook secret."""
    lease_ttl: Duration = timedelta(seconds=30)
    """How long a replica's leadership lease lasts without renewal."""

    @model_validator(mode="after")
    def _resolve(self) -> DaemonSettings:
        secret = _read_secret(self.webhook_secret, self.webhook_secret_file, "webhook_secret")
        object.__setattr__(self, "webhook_secret", secret)
        return self


class LoggingSettings(_Section):
    """Structured logs on standard error."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    """The lowest level written."""
    format: Literal["json", "console"] = "json"
    """``json`` (one object per line) or ``console`` (for people)."""


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix="OFFBOARD_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
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
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def load_settings(path: Path | None = None, *, require_file: bool = False) -> Settings:
    """Read and validate the configuration; raises ConfigError listing every problem.

    Without an explicit path a missing default file is fine when the environment holds the
    whole configuration; ``require_file`` makes it an error anyway.
    """
    source = config_path(path)
    data: dict[str, Any] = {}
    from_env_only = not source.exists() and any(
        name.startswith("OFFBOARD_") and name != CONFIG_ENV for name in os.environ
    )
    if path is not None or require_file or not from_env_only:
        data = read_toml(source)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration ({source}):", describe(exc)) from None


def describe(error: ValidationError) -> list[str]:
    """One ``section.key: problem`` line per validation error, never echoing a value."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
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
            message = "unknown key (check its spelling against `offboard config init`)"
        lines.append(f"{where}: {message}")
    return lines
