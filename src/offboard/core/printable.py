"""Values from Keycloak made safe to show, export and match.

Usernames and emails come from whoever can edit a Keycloak profile. A terminal escape
sequence in one would recolour, retitle or rewrite the operator's terminal; a value opening
with ``=`` becomes a formula in the auditor's spreadsheet; and a string that is no email
address must never pair a person with an account.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
"""Control characters (C0, DEL, C1), format characters (bidi overrides, zero-width) and
line/paragraph separators: none of them may reach a terminal or a table cell as they are."""
_ATEXT = frozenset("!#$%&'*+-/=?^_`{|}~")
"""RFC 5322 ``atext`` besides letters and digits: what an unquoted local part may hold."""
_LABEL = re.compile(r"(?!-)[^\W_](?:[^\W_]|-){0,62}(?<!-)")
_PLAIN = re.compile(
    r"[A-Za-z0-9_%+=-]+(?:\.[A-Za-z0-9_%+=-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
"""The everyday ASCII address: a fast yes (the planner asks once per identity and plan)."""
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula (OWASP's list)."""


def printable(text: str) -> str:
    """``text`` with every invisible character shown as an escape (``\\x1b``, ``\\u202e``)."""
    if text.isprintable():
        return text
    return "".join(_escaped(c) if unicodedata.category(c) in _INVISIBLE else c for c in text)


def visible(text: str) -> str:
    """:func:`printable`, but line breaks and tabs kept (a page lays them out as spaces)."""
    if text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable():
        return text
    return "".join(
        _escaped(c) if c not in "\n\r\t" and unicodedata.category(c) in _INVISIBLE else c
        for c in text
    )


def _escaped(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def csv_cell(text: str) -> str:
    """A cell no spreadsheet runs: printable, and a leading formula character quoted."""
    shown = printable(text)
    return "'" + shown if shown.startswith(CSV_TRIGGERS) else shown


def json_safe(text: str) -> str:
    """JSON text with every invisible character escaped as ``\\uXXXX``, not only the C0
    ones ``json.dumps`` escapes: C1 controls and bidi overrides too. The same JSON value;
    newlines and tabs outside strings (indentation) are left as they are."""
    # Every invisible category is one ``isprintable`` refuses: text whose only unprintable
    # characters are the layout it keeps is returned as it is, without a look at each one
    # (an indented plan document of a thousand actions is 400,000 characters).
    if text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable():
        return text
    return "".join(
        f"\\u{ord(c):04x}" if c not in "\n\r\t" and unicodedata.category(c) in _INVISIBLE else c
        for c in text
    )


def is_address(email: str) -> bool:
    """A plain ``local@domain`` address: a dot-atom local part (RFC 5322 atext, letters of
    any script) and a domain of letter-digit-hyphen labels. Quoted local parts, comments,
    blanks, controls and anything else are not taken for an address."""
    if len(email) <= 254 and _PLAIN.fullmatch(email) and email.index("@") <= 64:
        return True
    return _is_address_in_full(email)


def _is_address_in_full(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    if not at or not local or len(email) > 254 or len(local) > 64:
        return False
    if any(not part for part in local.split(".")):
        return False
    if not all(c.isalnum() or c in _ATEXT or c == "." for c in local):
        return False
    return all(_LABEL.fullmatch(label) for label in domain.split("."))
