"""config check lines about where the secrets are kept: in the configuration file itself,
or in a ``*_file`` that other users of the machine can read. Warnings, not failures: the
secret works, it is just exposed to more people than it should be."""

from __future__ import annotations

import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from offboard.ports import CheckResult
from offboard.settings import Settings
from offboard.settings.loading import config_path, read_toml


def secret_checks(config: Path | None, settings: Settings) -> list[CheckResult]:
    """A WARN per secret written in the file, and per secret file others may read."""
    found: list[CheckResult] = []
    source = config_path(config)
    if source.is_file():
        for key in _inline_secrets(Settings, read_toml(source)):
            env = "OFFBOARD_" + key.upper().replace(".", "__")
            found.append(
                CheckResult(
                    f"{key} in {source.name}",
                    True,
                    "the secret is written in the configuration file: whoever reads the file "
                    "(a backup, a repository, a support bundle) has it",
                    f"move it to {key}_file (mode 0600) or {env}, and remove it from the file",
                    warning=True,
                )
            )
    for key, path in _secret_files(settings):
        mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0
        if mode & 0o077:
            found.append(
                CheckResult(
                    f"{key}_file",
                    True,
                    f"{path} can be read by other users of this machine (mode {mode:04o})",
                    f"chmod 600 {path} (owned by the user offboard runs as)",
                    warning=True,
                )
            )
    return found


def _inline_secrets(
    model: type[BaseModel], table: Mapping[str, Any], at: str = ""
) -> Iterator[str]:
    for name, value in table.items():
        info = model.model_fields.get(name)
        if info is None:
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if isinstance(value, Mapping):
                yield from _inline_secrets(annotation, value, f"{at}{name}.")
        elif SecretStr in getattr(annotation, "__args__", (annotation,)):
            yield f"{at}{name}"


def _secret_files(section: BaseModel, at: str = "") -> Iterator[tuple[str, Path]]:
    """``(secret key, file)`` for each ``*_file`` set beside a secret key."""
    fields = type(section).model_fields
    for name in fields:
        value = getattr(section, name)
        if isinstance(value, BaseModel):
            yield from _secret_files(value, f"{at}{name}.")
        elif name.endswith("_file") and isinstance(value, Path) and name[:-5] in fields:
            yield f"{at}{name[:-5]}", value
