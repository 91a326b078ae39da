"""Collects the fault matrix's rows; writes them as JSON when ``OFFBOARD_FAULTS_OUT`` is set
(``benchmarks/faults.py`` does, then renders ``docs/reliability.md`` from the file)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.rig import ROWS, Row


@pytest.fixture(scope="session", autouse=True)
def matrix_rows() -> Iterator[list[Row]]:
    yield ROWS
    target = os.environ.get("OFFBOARD_FAULTS_OUT")
    if target and ROWS:
        rows = [{**dataclasses.asdict(row), "ok": row.ok} for row in ROWS]
        Path(target).write_text(json.dumps(rows, indent=1) + "\n")
