"""Every `offboard ...` command line the docs show names a real command and real options.

A reader copies these lines: `offboard plan --output plan.json` (the option is `--out`) or
`offboard history` (no such command) fail on first use. The lines are taken from inline code
and from code blocks of README.md and docs/; placeholders and values are not checked, the
command path and each `--option` are.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer import _click as click

from offboard.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "docs" / "reference" / "cli.md"  # the help itself: tests/cli/test_docs.py
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if p != GENERATED)]
INLINE = re.compile(r"`(offboard [^`]+)`")
BLOCK_LINE = re.compile(r"^\s*(?:\$\s+)?(offboard\s.*)$")
GLOBAL_WITH_VALUE = {"--config", "-c", "--log-level", "--log-format"}
ROOT_COMMAND = typer.main.get_command(app)


def _shown_lines(page: Path) -> list[tuple[int, str]]:
    """(line number, command line) of each `offboard ...` in inline code or a code block."""
    found: list[tuple[int, str]] = []
    in_block = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            match = BLOCK_LINE.match(line)
            if match:
                found.append((number, match.group(1).split("  #")[0].split(" #")[0]))
            continue
        found.extend((number, text) for text in INLINE.findall(line))
    return found


def _cases() -> list[tuple[str, str]]:
    cases = []
    for page in PAGES:
        for number, text in _shown_lines(page):
            cases.append((f"{page.relative_to(ROOT)}:{number}", text))
    return cases


CASES = _cases()


def _words(text: str) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    cut = [i for i, w in enumerate(words) if w in ("|", "&&", "||", ";", ">", "2>", "<", "&")]
    return words[1 : cut[0]] if cut else words[1:]


def _resolve(words: list[str]) -> tuple[click.Command, list[str], str]:
    """The command the words name, the words left after its path, and the path."""
    context = click.Context(ROOT_COMMAND)
    command: click.Command = ROOT_COMMAND
    path: list[str] = []
    rest = list(words)
    while rest:
        word = rest[0]
        if word in GLOBAL_WITH_VALUE and not path:
            rest = rest[2:]
            continue
        if word.startswith("-") or not _is_group(command):
            break
        sub = command.get_command(context, word)  # type: ignore[attr-defined]
        if sub is None:
            break
        command, path, rest = sub, [*path, word], rest[1:]
    return command, rest, " ".join(path)


def _is_group(command: click.Command) -> bool:
    """typer's groups (its vendored click has no Group class of its own)."""
    return hasattr(command, "get_command")


def _options(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for parameter in command.params:
        names.update(getattr(parameter, "opts", ()))
        names.update(getattr(parameter, "secondary_opts", ()))
    return names


def test_the_docs_show_command_lines() -> None:
    assert len(CASES) > 50


@pytest.mark.parametrize(("where", "text"), CASES, ids=[w for w, _ in CASES])
def test_a_command_line_in_the_docs_names_a_real_command_and_options(where: str, text: str) -> None:
    words = _words(text)
    command, rest, path = _resolve(words)
    if not path:
        first = next((w for w in words if not w.startswith("-")), None)
        listed = ROOT_COMMAND.list_commands(click.Context(ROOT_COMMAND))  # type: ignore[attr-defined]
        assert first is None or first in listed or first.isupper() or "<" in first, (
            f"{where}: `{text}` names no offboard command ({first!r})"
        )
        return
    if _is_group(command) and rest and not rest[0].startswith("-"):
        listed = command.list_commands(click.Context(command))  # type: ignore[attr-defined]
        for name in rest[0].split("|"):  # `offboard links list|set` names each
            assert name.isupper() or "<" in name or name in listed or name in ("...", "…"), (
                f"{where}: `offboard {path} {name}` is not a subcommand (one of {listed})"
            )
    known = _options(command) | _options(ROOT_COMMAND)
    for word in rest:
        option = word.split("=", 1)[0]
        if option.startswith("--") and option not in ("--", "---"):
            assert option in known, f"{where}: `offboard {path}` has no option {option}"


PLAN_THEN = re.compile(r"offboard\s(?:\S+\s)*?(?:plan|provision plan|licences plan)\b[^|;&`]*&&")
"""`offboard plan ... && ...`: plan exits 2 when it plans changes, so what follows runs only
when there is nothing to do."""


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_no_doc_chains_a_plan_with_and(page: Path) -> None:
    # QA: the README's `offboard plan && offboard apply` never applied a planned leave.
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        assert not PLAN_THEN.search(line), (
            f"{page.relative_to(ROOT)}:{number}: `plan ... &&` skips what follows whenever "
            "changes are planned (exit 2)"
        )
