"""Tables keep emails and ids whole at any width; run summaries read as words."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from offboard.cli.fitting import PIPE_WIDTH, fitted_table, output_console
from offboard.cli.run_words import summary_words

EMAIL = "firstname.lastname@subsidiary.example.com"
ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def _rendered(width: int) -> str:
    rows = [{"keycloak id": ID, "account": "5b10ac8d82e05b22cc7d4ef5", "email": EMAIL,
             "state": "active", "by hand": "", "linked": "2026-12-01"}]  # fmt: skip
    table = fitted_table("t", rows, width, keep=("keycloak id", "account", "email", "state"),
                         drop_first=("linked", "by hand"))  # fmt: skip
    out = io.StringIO()
    Console(file=out, width=width).print(table)
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 100, 160])
def test_an_email_is_never_broken(width: int) -> None:
    text = _rendered(width)
    assert EMAIL in text
    assert max(len(line) for line in text.splitlines()) <= width


def test_narrow_drops_low_value_columns_then_shortens_ids() -> None:
    narrow, wide = _rendered(80), _rendered(160)
    assert "linked" not in narrow
    assert "…" in narrow
    assert ID not in narrow
    assert ID in wide
    assert "2026-12-01" in wide


def test_output_into_a_pipe_is_not_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert output_console().width == PIPE_WIDTH  # pytest's stdout is not a terminal


def test_run_summaries_in_words() -> None:
    words = summary_words({
        "fingerprint": "0123456789abcdef", "actions_by_kind": {"deactivate": 2, "link": 5},
        "blocked": 1, "skipped": 0, "blocked_by": ["max-deactivations"],
        "applied": {"verified": 2}, "actor": "alice", "reason": "left",
    })  # fmt: skip
    assert words == (
        "2 deactivate, 5 new links, 1 blocked; applied: 2 verified; "
        "blocked by: max-deactivations; by alice: left; plan 0123456789ab"
    )
    assert summary_words({"error": "boom"}) == "error boom"
