"""A bounded, thread-safe log of the requests an emulator answered."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One answered request. ``key_id`` names the credential; the secret never appears."""

    method: str
    path: str
    query: str
    status: int
    key_id: str | None
    at: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form served by the control surface."""
        return asdict(self)


class RequestLog:
    """Keeps the last ``capacity`` requests, oldest first."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._entries: deque[RecordedRequest] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def append(self, entry: RecordedRequest) -> None:
        """Record one answered request."""
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[RecordedRequest]:
        """A copy of the recorded requests, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
