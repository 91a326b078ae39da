"""The generated configuration reference says the right thing in each table (QA finding L10).

``[notifications.email.smtp]`` once repeated ``[licences.smtp]``'s words ("sends the
inactivity warnings", ``OFFBOARD_LICENCES__SMTP__PASSWORD``), and a docstring wrapped over
lines broke its Markdown table row.
"""

from __future__ import annotations

import re

from offboard.cli.config_docs import reference_markdown


def _sections() -> dict[str, str]:
    parts = re.split(r"^## `\[([\w.]+)\]`$", reference_markdown(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_each_section_names_only_its_own_variables() -> None:
    for name, text in _sections().items():
        own = "OFFBOARD_" + name.upper().replace(".", "__") + "__"
        for variable in re.findall(r"OFFBOARD_[A-Z_]+__[A-Z_]+", text):
            assert variable.startswith(own), f"[{name}] mentions {variable}"


def test_notification_email_smtp_is_described_as_such() -> None:
    text = _sections()["notifications.email.smtp"]
    assert "inactivity" not in text
    assert "notification emails" in text
    assert "[licences.smtp]" in text  # the fallback is said


def test_every_key_is_one_table_row() -> None:
    for line in reference_markdown().splitlines():
        if line.startswith("| `"):
            assert line.endswith(" |"), line
            assert line.count(" | ") >= 3, line
    rows = [line for line in reference_markdown().splitlines() if line.startswith("| `")]
    assert len(rows) > 100
