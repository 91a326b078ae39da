"""Libraries' log lines (stdlib ``logging``) come out as the daemon's own JSON lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from offboard.cli.logs import configure_logging


@pytest.fixture
def routed() -> Iterator[None]:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    root.handlers[:] = before
    root.setLevel(level)


def test_a_library_warning_is_json_on_the_current_stderr(
    routed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("info", "json")
    configure_logging("info", "json")  # configured twice (as commands do): one handler
    logging.getLogger("a.library").warning("Invalid HTTP request received.")
    logging.getLogger("httpx").info("HTTP Request: GET https://x/users?email=ada@example.com")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines  # INFO from libraries stays out: URLs can hold emails
    line = json.loads(lines[0])
    assert (line["event"], line["level"]) == ("Invalid HTTP request received.", "warning")
