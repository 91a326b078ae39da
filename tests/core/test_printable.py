"""Hostile values from Keycloak (issue 19.7): shown as escapes, never run, never matched."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offboard.core.plan import Rule
from offboard.core.printable import _is_address_in_full, csv_cell, is_address, json_safe, printable
from offboard.core.rendering import render_markdown, render_text
from tests.core.builders import account, identity, make_plan, source, target

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e\x9b"


def test_invisible_characters_are_shown_as_escapes() -> None:
    assert printable(f"eve{ESCAPES}") == "eve\\x1b]0;pwned\\x07\\x1b[2J\\u202e\\x9b"
    assert printable("Zoë Ærø 日本") == "Zoë Ærø 日本"


@pytest.mark.parametrize(
    ("cell", "safe"),
    [("=1+1@x.test", "'=1+1@x.test"), ("+a", "'+a"), ("-a", "'-a"), ("@a", "'@a"),
     ("\tx", "\\x09x"), ("ada@x.test", "ada@x.test")],
)  # fmt: skip
def test_csv_cells_never_start_a_formula(cell: str, safe: str) -> None:
    assert csv_cell(cell) == safe


def test_json_safe_keeps_the_value_and_escapes_every_control() -> None:
    text = json.dumps({"email": f"a{ESCAPES}@x.test"}, ensure_ascii=False, indent=2)
    safe = json_safe(text)
    assert json.loads(safe) == json.loads(text)
    assert printable(safe.replace("\n", "")) == safe.replace("\n", "")


def _escaped_one_by_one(text: str) -> str:
    """json_safe as first written: every character looked at."""
    return "".join(
        f"\\u{ord(c):04x}" if c not in "\n\r\t" and unicodedata.category(c) in INVISIBLE else c
        for c in text
    )


INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}


@given(st.text(st.characters(codec="utf-8")) | st.text(alphabet="ab \n\r\t\u202e\x9b\u2028é"))
def test_json_safe_escapes_as_a_look_at_each_character_does(text: str) -> None:
    """The fast path (nothing to escape but kept layout) changes no answer."""
    assert json_safe(text) == _escaped_one_by_one(text)


@pytest.mark.parametrize(
    "email",
    ["ada@acme.test", "Ada.Lovelace+jira@Acme.TEST", "=1+1@acme.test", "zoë@acme.test"],
)
def test_addresses(email: str) -> None:
    assert is_address(email)


@pytest.mark.parametrize(
    "email",
    ['=HYPERLINK("http://x")@acme.test', f"m{ESCAPES}@acme.test", "two words@acme.test",
     "a..b@acme.test", "@acme.test", "ada@", "ada@-acme.test", "ada@acme.test\n", "ada"],
)  # fmt: skip
def test_not_addresses(email: str) -> None:
    assert not is_address(email)


def test_a_non_address_is_never_matched_and_shown_as_such() -> None:
    weird = '=HYPERLINK("http://x")@acme.test'
    src = source(identity(1, email=weird, username=f"eve{ESCAPES}"))
    result = make_plan(src, target(account(1, email=weird)))
    assert not result.actions
    rules = {e.rule: e for e in result.entries}
    assert set(rules) == {Rule.EMAIL_NOT_AN_ADDRESS, Rule.NEVER_LINKED}  # the account, alone
    entry = rules[Rule.EMAIL_NOT_AN_ADDRESS]
    assert "\x1b" not in entry.reason
    assert "eve\\x1b" in entry.reason


def test_renderings_escape_hostile_usernames() -> None:
    src = source(identity(1, disabled=True, username=f"eve{ESCAPES}"))
    result = make_plan(src, target(account(1)), [])
    for text in (render_markdown(result), render_text(result)):
        assert printable(text.replace("\n", "")) == text.replace("\n", "")


@given(st.text(alphabet='ab9-._%+=@()" \x1b', max_size=24))
def test_the_fast_path_agrees_with_the_full_check(email: str) -> None:
    assert is_address(email) == _is_address_in_full(email)
