"""Hostile-input tests: each records one row of the hostile input table in docs/reliability.md.

Every test here asserts its own numbers (no wrongful action, no crash, no secret, nothing lost);
the row it records is what benchmarks/hostile.py renders into the table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

HostileRow = Callable[..., None]


@pytest.fixture
def hostile_row(request: pytest.FixtureRequest) -> HostileRow:
    """``hostile_row(area=, inputs=, wrongful_actions=, crashes=, secrets_leaked=,
    lost_actions=, note=)``: record this test's row when ``OFFBOARD_HOSTILE_REPORT`` is set."""

    def record(
        *,
        area: str,
        inputs: int,
        wrongful_actions: int,
        crashes: int,
        secrets_leaked: int,
        lost_actions: int,
        note: str,
    ) -> None:
        target = os.environ.get("OFFBOARD_HOSTILE_REPORT")
        if not target:
            return
        row = {
            "test": request.node.nodeid,
            "area": area,
            "inputs": inputs,
            "wrongful_actions": wrongful_actions,
            "crashes": crashes,
            "secrets_leaked": secrets_leaked,
            "lost_actions": lost_actions,
            "note": note,
        }
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")

    return record
