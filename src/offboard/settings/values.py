"""The building blocks of the settings: the error, durations, secrets, URLs, the section base."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr

from offboard.ports import OffboardError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ConfigError(OffboardError):
    """The configuration is missing or invalid; ``problems`` lists ``section.key: problem``."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = problems or []
        lines = [message, *(f"  {p}" for p in self.problems)]
        super().__init__("\n".join(lines))


MAX_DURATION = timedelta(days=3650)
"""Ten years: beyond it a duration is a typo (and ``1e30`` seconds overflows a timedelta)."""


def parse_duration(value: object) -> object:
    """``"30s"``, ``"15m"``, ``"2h"``, ``"7d"``, ``"1w"`` (or ISO 8601) to a timedelta.

    A unit is required: ``"15"`` could mean seconds or minutes, so it is refused with the
    spellings that would be accepted. Zero needs none.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | str):
        text = str(value).strip()
        match = re.fullmatch(r"(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([smhdw]?)", text, re.I)
        if match:
            number, unit = float(match[1]), match[2].lower()
            if not unit and number != 0:
                raise ValueError(
                    f'{text!r} has no unit: write e.g. "{text}s" or "{text}m" (s, m, h, d or w)'
                )
            seconds = number * _UNITS[unit or "s"]
            if seconds > MAX_DURATION.total_seconds():
                raise ValueError(f"{text!r} is longer than ten years: a typo?")
            return timedelta(seconds=seconds)
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def secure_url(key: str, url: str) -> str:
    """HTTPS everywhere; plain HTTP only to loopback (an emulator or a local proxy).

    Credentials in the URL (``https://user:password@host``) are refused: they would be
    printed by ``config show`` and in errors; secrets go in their own keys or files.
    """
    parsed = urlsplit(url)
    if "@" in parsed.netloc:
        raise ValueError(
            f"{key}: {_without_userinfo(url)!r} carries credentials before '@'; they are "
            "refused (and not shown): give secrets in their own keys or *_file"
        )
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{key}: {_without_userinfo(url)!r} is not an http(s) URL")
    if parsed.scheme == "http" and parsed.hostname not in _LOOPBACK_HOSTS:
        raise ValueError(f"{key}: use https:// (plain http is only allowed to loopback)")
    return url.rstrip("/")


def _without_userinfo(url: str) -> str:
    """The URL as it may be shown: everything up to its last '@' hidden."""
    return url if "@" not in url else "***@" + url.rpartition("@")[2]


def read_secret(inline: SecretStr | None, file: Path | None, key: str) -> SecretStr | None:
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


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
