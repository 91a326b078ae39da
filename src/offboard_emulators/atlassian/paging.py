"""Opaque cursors and O(page) scans over ordered id lists."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class BadCursorError(ValueError):
    """A cursor the emulator did not issue (answered with ``ADMIN-400-1`` / 400)."""


_STANDARD_PREFIX = b"\xff\xef\xbe"
"""Encodes as ``/+++``: a realistic cursor starts with ``/`` and holds ``+`` (and ``=``)."""


def encode_cursor(
    position: int, scope: str, filters: dict[str, Any] | None = None, *, standard: bool = False
) -> str:
    """An opaque token for ``position`` in the listing ``scope``; it carries the filters,
    because a cursor overrides every other parameter (reference §1.5).

    ``standard`` gives the form Atlassian's cursors have: standard base64 with padding,
    here always starting with ``/`` and holding ``+`` and ``=``, the hardest case for a
    client that mistakes a cursor for a path or puts it in a URL unescaped."""
    raw = json.dumps({"s": scope, "p": position, "f": filters or {}}, separators=(",", ":"))
    if not standard:
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    payload = _STANDARD_PREFIX + raw.encode()
    if len(payload) % 3 == 0:
        payload += b" "  # keep at least one "=" of padding
    return base64.b64encode(payload).decode()


def _decode(cursor: str) -> bytes:
    padded = cursor + "=" * (-len(cursor) % 4)
    if "+" in cursor or "/" in cursor:
        raw = base64.b64decode(padded.encode(), validate=True)
        return raw.removeprefix(_STANDARD_PREFIX)
    return base64.urlsafe_b64decode(padded.encode())


def decode_cursor(cursor: str, scope: str) -> tuple[int, dict[str, Any]]:
    """The position and filters behind ``cursor``; ``BadCursorError`` if not ours."""
    try:
        data = json.loads(_decode(cursor))
        position, filters = int(data["p"]), dict(data["f"])
        cursor_scope = data["s"]
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise BadCursorError(cursor) from error
    if cursor_scope != scope or position < 0:
        raise BadCursorError(cursor)
    return position, filters


@dataclass(frozen=True, slots=True)
class Page:
    """Ids on this page and where the next page starts (``None`` on the last page)."""

    ids: list[str]
    next_position: int | None


def scan(order: Sequence[str], start: int, limit: int, keep: Callable[[str], bool]) -> Page:
    """Collect up to ``limit`` ids from ``order[start:]`` that ``keep`` accepts.

    The next position points at the next accepted id, so the last page is never empty.
    """
    found: list[str] = []
    position = start
    total = len(order)
    while position < total and len(found) < limit:
        if keep(order[position]):
            found.append(order[position])
        position += 1
    while position < total and not keep(order[position]):
        position += 1
    return Page(found, position if position < total else None)
