"""Locations in the configuration: the store's database URL, and relative file paths.

One check of a store URL serves ``store.url`` (a configuration error) and ``--store`` (the
store's own error), so the two never disagree. Relative paths written in the TOML file are
resolved against that file's folder, as docker compose and Prometheus do: a command run from
another folder must find the same store and the same secret files. Paths from ``OFFBOARD_*``
variables and options stay relative to the working directory, like any shell argument.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

STORE_SCHEMES = frozenset(
    {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"}
)
"""The backends a store can live in: SQLite, and PostgreSQL through psycopg 3."""
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,30})://")
_EXAMPLE = "e.g. postgresql+psycopg://offboard@db.example.com/offboard or sqlite:////var/lib/x.db"


def store_url_problem(url: str) -> str | None:
    """Why ``url`` is no store URL offboard can open, or None. The words never repeat the
    URL: it may hold a password."""
    match = _URL.match(url.strip())
    if match is None:
        return (
            f"not a database URL: it must start with scheme:// ({_EXAMPLE}); the value is "
            "not shown, it may hold a password"
        )
    scheme = match[1].lower()
    if scheme not in STORE_SCHEMES:
        return (
            f"the {scheme!r} backend is not supported: a store is SQLite (sqlite:///PATH, or "
            "store.path) or PostgreSQL (postgresql:// or postgresql+psycopg://)"
        )
    return None


def _path_annotation(annotation: Any) -> bool:
    """``Path`` or ``Path | None``."""
    if annotation is Path:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return Path in typing.get_args(annotation)
    return False


def _section(annotation: Any) -> type[BaseModel] | None:
    """The section model of a nested table's field, if it is one."""
    candidates = typing.get_args(annotation) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def resolve_relative_paths(model: type[BaseModel], data: Any, base: Path) -> Any:
    """The file's tables with every relative path setting made absolute against ``base``
    (the file's folder). ``~`` is expanded first; other values are left for validation."""
    if not isinstance(data, dict):
        return data
    resolved = dict(data)
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            continue  # an unknown key: validation names it
        if _path_annotation(field.annotation) and isinstance(value, str) and value.strip():
            path = Path(value).expanduser()
            resolved[key] = str(path if path.is_absolute() else base / path)
        elif (section := _section(field.annotation)) is not None:
            resolved[key] = resolve_relative_paths(section, value, base)
    return resolved


def sqlite_url_beside(url: str, base: Path) -> str:
    """``sqlite:///relative.db`` (three slashes: a relative path) made absolute against
    ``base`` too; any other URL as it is."""
    scheme, separator, rest = url.strip().partition(":///")
    if not separator or scheme.lower() not in ("sqlite", "sqlite+pysqlite"):
        return url
    if not rest or rest.startswith((":memory:", "/")):
        return url
    path = Path(rest).expanduser()
    return url if path.is_absolute() else f"{scheme}:///{base / path}"


def resolve_file_locations(model: type[BaseModel], data: Any, base: Path) -> Any:
    """The file's tables with relative paths made absolute against its folder: every path
    setting, and a SQLite ``store.url``."""
    resolved = resolve_relative_paths(model, data, base)
    store = resolved.get("store") if isinstance(resolved, dict) else None
    if isinstance(store, dict) and isinstance(store.get("url"), str):
        resolved["store"] = {**store, "url": sqlite_url_beside(store["url"], base)}
    return resolved
