"""Everything one emulated Keycloak holds: the realm, its logins, the recorded requests and
the generic faults (5xx, latency). `create_app(state)` in app.py serves it over HTTP."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from offboard_emulators.common.faults import FaultInjector
from offboard_emulators.common.recorder import RequestLog
from offboard_emulators.keycloak.login import Logins
from offboard_emulators.keycloak.seed import load_realm_file, realm_from_json
from offboard_emulators.keycloak.state import Realm


class EmulatorState:
    """One realm plus the emulator's own bookkeeping; `reset` returns to the seed."""

    def __init__(self, realm: Realm | None = None) -> None:
        self.realm = realm or realm_from_json({"realm": "offboard-test"})
        self.logins = Logins(self.realm)
        self.requests = RequestLog()
        self.faults = FaultInjector()
        self._seed: Path | None = None
        self._seed_env: Mapping[str, str] = {}
        self._seed_data: Mapping[str, Any] | None = None

    @classmethod
    def from_seed_file(cls, path: Path, env: Mapping[str, str] | None = None) -> EmulatorState:
        """An emulator seeded from a realm-import JSON file (`${NAME}` from `env` or os.environ)."""
        values = dict(os.environ if env is None else env)
        state = cls(load_realm_file(path, values))
        state._seed, state._seed_env = path, values
        return state

    @classmethod
    def from_seed_json(cls, data: Mapping[str, Any]) -> EmulatorState:
        """An emulator seeded from a parsed realm representation (kept for `reset`)."""
        state = cls(realm_from_json(data))
        state._seed_data = copy.deepcopy(data)
        return state

    def replace_realm(self, realm: Realm) -> None:
        """Swap in another realm (a new seed); tokens and lockouts are forgotten."""
        self.realm = realm
        self.logins = Logins(realm)

    def reset(self) -> None:
        """Back to the seed file (or an empty realm), with no faults and no recorded requests."""
        if self._seed is not None:
            realm = load_realm_file(self._seed, self._seed_env)
        elif self._seed_data is not None:
            realm = realm_from_json(self._seed_data)
        else:
            realm = realm_from_json({"realm": self.realm.settings.name})
        self.replace_realm(realm)
        self.requests.clear()
        self.faults.configure(type(self.faults.config)())
