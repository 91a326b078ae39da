"""The building blocks of the settings: the error, durations, secrets, URLs, the section base."""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr, TypeAdapter, ValidationError

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
_NUMBER = r"\d+(?:\.\d+)?"
_SINGLE = re.compile(rf"({_NUMBER}(?:e[+-]?\d+)?)\s*([smhdw]?)", re.I)
_PART = re.compile(rf"({_NUMBER})\s*([smhdw])", re.I)
_COMPOUND = re.compile(rf"(?:{_NUMBER}\s*[smhdw]\s*)+", re.I)
DURATION_HINT = "use a number and a unit (s, m, h, d or w), e.g. 90m, 12h, 7d, or several: 1h30m"


def parse_duration(value: object) -> object:
    """``"30s"``, ``"15m"``, ``"2h"``, ``"7d"``, ``"1w"``, or several (``"1h30m"``) to a
    timedelta; anything else is returned as it is (an ISO date for ``--since``).

    A unit is required: ``"15"`` could mean seconds or minutes, so it is refused with the
    spellings that would be accepted. Zero needs none. A negative duration is refused.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-\s*\d.*", text):
        raise ValueError(f"{text!r} is negative: a duration is zero or longer")
    single, seconds = _SINGLE.fullmatch(text), None
    if single:
        number, unit = float(single[1]), single[2].lower()
        if not unit and number != 0:
            raise ValueError(
                f'{text!r} has no unit: write e.g. "{text}s" or "{text}m" (s, m, h, d or w)'
            )
        seconds = number * _UNITS[unit or "s"]
    elif _COMPOUND.fullmatch(text):
        seconds = sum(float(n) * _UNITS[u.lower()] for n, u in _PART.findall(text))
    if seconds is None:
        return value
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than ten years: a typo?")
    return timedelta(seconds=seconds)


def setting_duration(value: object) -> object:
    """A duration setting: :func:`parse_duration`, or ISO 8601 (``P1D``); anything else is
    refused in offboard's words, not pydantic's."""
    parsed = parse_duration(value)
    if isinstance(parsed, timedelta):
        if parsed < timedelta(0):
            raise ValueError(f"'{parsed}' is negative: a duration is zero or longer")
        return parsed
    text = str(value).strip()
    if isinstance(value, str) and text[:1] in ("P", "p"):
        iso = _iso_duration(text.upper())
        if iso is not None and iso > MAX_DURATION:
            raise ValueError(f"{text!r} is longer than ten years: a typo?")
        if iso is not None:
            return setting_duration(iso)
    raise ValueError(f"{text!r} is not a duration: {DURATION_HINT}")


@functools.cache
def _iso_adapter() -> TypeAdapter[timedelta]:
    return TypeAdapter(timedelta)


def _iso_duration(text: str) -> timedelta | None:
    try:
        return _iso_adapter().validate_python(text)
    except ValidationError:
        return None


Duration = Annotated[timedelta, BeforeValidator(setting_duration)]


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def secure_url(key: str, url: str, *, secret: bool = False) -> str:
    """HTTPS everywhere; plain HTTP only to loopback (an emulator or a local proxy).

    Credentials in the URL (``https://user:password@host``) are refused: they would be
    printed by ``config show`` and in errors; secrets go in their own keys or files. A
    ``secret`` URL (a Slack or webhook URL, whose path is the credential) is never shown.
    """
    shown = "the URL (not shown: it holds a secret)" if secret else repr(_without_userinfo(url))
    if re.search(r"\s", url):
        # A pasted URL's trailing blank or line break passed, then every request got a 404
        # that config check blamed on a key.
        raise ValueError(
            f"{key}: {shown} has a blank in it (a space, tab or line break): remove it"
        )
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018  (parses the port: a bad one raises here, not in a request)
    except ValueError:  # an unclosed IPv6 bracket; urlsplit's words name no key
        raise ValueError(f"{key}: {shown} is not an http(s) URL") from None
    if "@" in parsed.netloc:
        raise ValueError(
            f"{key}: {shown} carries credentials before '@'; they are refused (and not "
            "shown): give secrets in their own keys or *_file"
        )
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{key}: {shown} is not an http(s) URL")
    if parsed.scheme == "http" and parsed.hostname not in _LOOPBACK_HOSTS:
        raise ValueError(f"{key}: use https:// (plain http is only allowed to loopback)")
    return url.rstrip("/")


def check_group_path(key: str, path: str, example: str) -> None:
    """A Keycloak group path as Keycloak writes it: ``/parent/child``, no empty segment.

    A trailing or doubled ``/`` still finds the group, but its members' paths never equal
    it, so they would all look as if they had left the scope.
    """
    parts = path.split("/")
    if parts[0] or not any(parts[1:]):
        raise ValueError(f"{key}: {path!r} is not a group path like {example}")
    if not all(parts[1:]):
        written = "/" + "/".join(part for part in parts if part)
        raise ValueError(
            f"{key}: {path!r} is not a group path: write {written!r} (no empty segment, no "
            "trailing '/')"
        )


def keycloak_root(url: str) -> str:
    """Keycloak's root URL as given, or an error naming the root when a console or realm
    URL was pasted: its token request went to a path that answers 401 or 404 instead."""
    path = urlsplit(url).path
    found = re.search(r"/(admin|realms)(/|$)", path)
    if found is None:
        return url
    root = url[: len(url) - len(path) + found.start()]
    raise ValueError(
        f"base_url: {url!r} goes past the server's root URL (at /{found[1]}): give the "
        f"server's root URL, here {root!r}; offboard adds /realms/<realm> and /admin itself"
    )


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
