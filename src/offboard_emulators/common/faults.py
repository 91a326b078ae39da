"""Fault injection: random 5xx answers, added latency, and the Nth matching request failing."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class FailNth:
    """The ``nth`` request (1-based) whose path contains ``path_contains`` (and whose
    method is ``method``, if set) answers ``status``; it fires ``times`` times in a row."""

    path_contains: str
    nth: int
    status: int = 500
    method: str | None = "GET"
    times: int = 1
    seen: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule is watching the request."""
        method_ok = self.method is None or self.method.upper() == method.upper()
        return method_ok and self.path_contains in path


@dataclass(slots=True)
class FaultConfig:
    """What to break. ``error_rate`` is a probability in [0, 1] of answering
    ``error_status`` on requests whose path contains ``path_contains``."""

    error_rate: float = 0.0
    error_status: int = 503
    latency_ms: int = 0
    path_contains: str = ""
    fail_nth: list[FailNth] = field(default_factory=list)
    seed: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultConfig:
        """Build from the control-surface JSON."""
        rules = [FailNth(**rule) for rule in data.get("fail_nth", [])]
        plain = {k: v for k, v in data.items() if k != "fail_nth" and k in cls.__dataclass_fields__}
        config = cls(**plain, fail_nth=rules)
        if not 0.0 <= config.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if config.error_status < 500 or config.error_status > 599:
            raise ValueError("error_status must be a 5xx status")
        return config

    def to_json(self) -> dict[str, Any]:
        """The JSON form served by the control surface."""
        return asdict(self)


class FaultInjector:
    """Decides, request by request, whether to delay and whether to fail."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        """Replace the fault plan; counters of ``fail_nth`` rules start from zero."""
        with self._lock:
            self.config = config
            self._random = random.Random(config.seed)

    def latency_seconds(self) -> float:
        """How long to hold every request before answering."""
        return self.config.latency_ms / 1000.0

    def failure_for(self, method: str, path: str) -> int | None:
        """The status to answer instead of the real one, or ``None``."""
        with self._lock:
            for rule in self.config.fail_nth:
                if not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.nth <= rule.seen < rule.nth + rule.times:
                    return rule.status
            config = self.config
            hit = config.error_rate and config.path_contains in path
            if hit and self._random.random() < config.error_rate:
                return config.error_status
        return None
