"""Configuration: a TOML file plus ``OFFBOARD_*`` environment variables, validated once.

The file is found at ``--config PATH``, else ``$OFFBOARD_CONFIG``, else ``./offboard.toml``.
Environment variables override the file and nest with ``__``, e.g.
``OFFBOARD_KEYCLOAK__CLIENT_SECRET_FILE``. Secrets are ``SecretStr``: they come from the
environment or from ``*_file`` keys and are never printed. Every problem is reported as
``section.key: problem`` in one :class:`ConfigError`. The attribute docstrings of the
section models are the reference documentation (``docs/reference/configuration.md`` is
generated from them).
"""

from offboard.settings.loading import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    Settings,
    config_path,
    describe,
    load_settings,
    read_toml,
)
from offboard.settings.policy import ActionName, PolicySettings, ThresholdSettings
from offboard.settings.runtime import DaemonSettings, LoggingSettings, StoreSettings
from offboard.settings.sources import AtlassianSettings, KeycloakSettings
from offboard.settings.values import ConfigError, Duration, parse_duration

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "ActionName",
    "AtlassianSettings",
    "ConfigError",
    "DaemonSettings",
    "Duration",
    "KeycloakSettings",
    "LoggingSettings",
    "PolicySettings",
    "Settings",
    "StoreSettings",
    "ThresholdSettings",
    "config_path",
    "describe",
    "load_settings",
    "parse_duration",
    "read_toml",
]
