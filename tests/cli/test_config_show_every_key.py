"""`config show` renders every key of the settings, whatever its type (QA finding M2).

A date or time key (``atlassian.api_key_expires_on``, ``licences.daily_at``,
``notifications.digest_at``) once crashed `config show` with "no TOML form for date". The
models are walked here and every key is given a value other than its default, so a key of a
type the renderer does not know fails this test the day it is added.
"""

from __future__ import annotations

import tomllib
import types
import typing
from datetime import date, time, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr
from typer.testing import CliRunner

from offboard.cli.config import REDACTED, effective_toml
from offboard.cli.main import app
from offboard.core.accounts import AccountClass
from offboard.core.notifications import Kind
from offboard.settings import Settings

# Values the validators need (URLs, group paths, hosts); every other key gets a generic one.
_GIVEN: dict[str, Any] = {
    "keycloak.base_url": "https://sso.example.org",
    "keycloak.scope_groups": ["/staff/eng"],
    "keycloak.scope_attribute": "department=eng",
    "keycloak.page_size": 500,
    "atlassian.base_url": "http://127.0.0.1:9",
    "policy.domains": ["example.org"],
    "policy.protected_emails": ["ceo@example.org"],
    "policy.actions": {AccountClass.MANAGED.value: "suspend"},
    "store.url": "postgresql://offboard@db.example.org/offboard",
    "daemon.listen_host": "0.0.0.0",  # noqa: S104 - a value, nothing listens
    "daemon.webhook_host": "0.0.0.0",  # noqa: S104
    "console.issuer": "https://sso.example.org/realms/staff",
    "console.public_url": "https://offboard.example.org",
    "notifications.console_url": "https://offboard.example.org",
    "licences.prices": {"*": 8.6},
    "provisioning.attributes": {"title": "jobTitle"},
    "provisioning.groups": ["/team/devs"],
    "provisioning.group_prefixes": ["/atlassian"],
}
# Pairs that exclude each other: the first of each is set in one variant, the second in the other.
_EXCLUSIVE = [("store.path", "store.url"), ("keycloak.scope_groups", "keycloak.scope_attribute")]
_FIXED = {"keycloak.verify_tls"}
"""Keys with a single allowed value (TLS verification cannot be turned off)."""
_SECRET_TEXT = "a-secret-value-long-enough-for-any-check-0123456789"
_URL_SECRET = "https://hooks.example.org/services/x"


def _bare(annotation: Any) -> Any:
    """The annotation without ``| None`` and ``Annotated[...]``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _bare(typing.get_args(annotation)[0])
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _bare(rest[0]) if len(rest) == 1 else annotation
    return annotation


def _other(key: str, annotation: Any, default: Any, folder: Path) -> Any:
    """A valid value for ``key`` that is not ``default``."""
    kind, origin = _bare(annotation), typing.get_origin(_bare(annotation))
    name = key.rpartition(".")[2]
    if kind is bool:
        return not default
    if origin is typing.Literal:
        return next(choice for choice in typing.get_args(kind) if choice != default)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return next(member.value for member in kind if member != default)
    if kind is int:
        return (default or 0) + 1
    if kind is float:
        return (default or 0) + 1.5
    if kind is timedelta:
        return f"{(default or timedelta(0)).total_seconds() + 1!r}s"
    if kind is date:
        return date(2027, 3, 1)
    if kind is time:
        return time(6, 30)
    if kind is str:
        return f"{name}-given"
    if kind is Path:
        file = folder / key.replace(".", "-")
        file.write_text(_URL_SECRET if name == "url_file" else _SECRET_TEXT, encoding="utf-8")
        return str(file)
    if origin in (list, tuple):
        item = typing.get_args(kind)[0]
        return [Kind.HOLD.value] if item is Kind else [f"{name}-given"]
    raise TypeError(f"{key}: no test value for {annotation!r}: teach this test the new type")


def _values(model: type[BaseModel], prefix: str, folder: Path, skip: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        section = _bare(info.annotation)
        if isinstance(section, type) and issubclass(section, BaseModel):
            data[name] = _values(section, f"{key}.", folder, skip)
        elif key in skip or f"{name}_file" in model.model_fields:
            continue  # an inline secret comes from its *_file, set here
        elif key in _FIXED:
            continue
        elif key in _GIVEN:
            data[name] = _GIVEN[key]
        else:
            default = None if info.is_required() else info.get_default(call_default_factory=True)
            data[name] = _other(key, info.annotation, default, folder)
    return data


def _leaves(model: BaseModel, prefix: str = "") -> dict[str, tuple[Any, Any]]:
    """Each key's value and its default."""
    found: dict[str, tuple[Any, Any]] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            found |= _leaves(value, f"{prefix}{name}.")
        else:
            default = None if info.is_required() else info.get_default(call_default_factory=True)
            found[f"{prefix}{name}"] = (value, default)
    return found


def _variants(folder: Path) -> list[Settings]:
    return [
        Settings.from_values(_values(Settings, "", folder, {pair[1 - side] for pair in _EXCLUSIVE}))
        for side in (0, 1)
    ]


def test_every_key_is_set_to_a_non_default_value_in_some_variant(tmp_path: Path) -> None:
    leaves = [_leaves(settings) for settings in _variants(tmp_path)]
    for key in leaves[0].keys() - _FIXED:
        assert any(leaf[key][0] != leaf[key][1] for leaf in leaves), f"{key} kept its default"


def test_config_show_renders_every_key_as_toml_that_loads_back(tmp_path: Path) -> None:
    for settings in _variants(tmp_path):
        text = effective_toml(settings)
        assert _SECRET_TEXT not in text
        parsed = tomllib.loads(text)
        # Secrets are shown redacted; most come back from their *_file keys.
        again = _leaves(Settings.from_values(_without(parsed, REDACTED)))
        for key, (value, _default) in _leaves(settings).items():
            if isinstance(value, SecretStr) and again[key][0] is None:
                assert key == "store.url"  # a secret without a *_file: only redacted
            else:
                assert again[key][0] == value, key


def _without(table: dict[str, Any], unwanted: str) -> dict[str, Any]:
    return {
        key: _without(value, unwanted) if isinstance(value, dict) else value
        for key, value in table.items()
        if value != unwanted
    }


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("OFFBOARD_ATLASSIAN__API_KEY_EXPIRES_ON", "2027-03-01", "api_key_expires_on = 2027-03-01"),
        ("OFFBOARD_LICENCES__DAILY_AT", "06:30", "daily_at = 06:30:00"),
        ("OFFBOARD_NOTIFICATIONS__DIGEST_AT", "08:00", "digest_at = 08:00:00"),
    ],
)
def test_config_show_with_a_date_or_time_key(
    runner: CliRunner,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    line: str,
) -> None:
    monkeypatch.setenv(variable, value)
    result = runner.invoke(app, ["-c", str(config_file), "config", "show"])
    assert result.exit_code == 0, result.output
    assert line in result.output
