"""The runtime lock (requirements.lock) against pyproject.toml: hashed, complete, above floors.

scripts/lock --check (in scripts/test) proves the lock is what the resolver makes of
pyproject.toml; these tests prove what that check cannot: every pin is hashed, and no pin is
below a floor set for an advisory.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)")

ADVISORY_FLOORS = {
    "h11": "0.16",  # CVE-2025-43859, named in issue 19
    "starlette": "0.49.1",
    "idna": "3.7",
    "certifi": "2024.7.4",
    "mako": "1.2.2",
    "pygments": "2.15",
}


def _entries() -> list[str]:
    """The lock's entries: a pin line with its hash continuation lines."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])


def _pins() -> dict[str, Version]:
    pins = {}
    for entry in _entries():
        found = PIN.match(entry)
        assert found is not None, f"not a pin: {entry[:60]!r}"
        pins[canonicalize_name(found[1])] = Version(found[2])
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = [*project["dependencies"], *project["optional-dependencies"]["postgresql"]]
    return [Requirement(text) for text in listed]


def test_every_pin_carries_hashes() -> None:
    for entry in _entries():
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_lock_holds_every_runtime_requirement_within_its_range() -> None:
    pins = _pins()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is required but not locked"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} is outside {requirement.specifier}"
        )


@pytest.mark.parametrize(("name", "floor"), sorted(ADVISORY_FLOORS.items()))
def test_pyproject_sets_a_floor_where_an_advisory_exists(name: str, floor: str) -> None:
    requirement = next(r for r in _requirements() if canonicalize_name(r.name) == name)
    below = _just_below(floor)
    assert not requirement.specifier.contains(below, prereleases=True)
    assert _pins()[name] >= Version(floor)


def _just_below(floor: str) -> Version:
    """A release just below the floor (0.15.99 for 0.16), which the floor must refuse."""
    parts = [int(p) for p in floor.split(".")]
    index = max(i for i, p in enumerate(parts) if p > 0)
    parts[index] -= 1
    return Version(".".join(str(p) for p in [*parts[: index + 1], 99]))
