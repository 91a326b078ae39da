"""``OFFBOARD_*`` variables that name no setting are refused, like an unknown key in the file.

pydantic-settings ignores a variable it has no field for, so a typo
(``OFFBOARD_POLICY_PROTECTED_EMAILS``, one underscore) silently left a protection list
empty. Every ``OFFBOARD_*`` variable must now name a setting (or lie inside a table setting
such as ``OFFBOARD_POLICY__ACTIONS__MANAGED``), or be one of the few that are not settings.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable

from pydantic import BaseModel

PREFIX = "OFFBOARD_"
NOT_SETTINGS = frozenset(
    {
        "OFFBOARD_CONFIG",  # the configuration file's path (--config)
        "OFFBOARD_AUDIT_REQUIRED",  # scripts/audit
        "OFFBOARD_FLOORS_VENV",  # scripts/test-floors
        "OFFBOARD_KEYCLOAK_JAVA_HOME",  # the JDK of the test Keycloak (tests/keycloak)
        "OFFBOARD_HOSTILE_REPORT",  # tests/hostile's report
        "OFFBOARD_FAULTS_OUT",  # tests/faults' matrix
    }
)
"""Variables offboard or its tooling reads that are not settings; ``OFFBOARD_TEST_*``
(the test suite's servers and fixtures) are not settings either."""
_NOT_SETTINGS_PREFIX = "OFFBOARD_TEST_"
_SERVICE_LINK = re.compile(
    r"OFFBOARD(_[A-Z0-9]+)*_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?"
    r"|PORT(_\d+_(TCP|UDP|SCTP)(_(ADDR|PORT|PROTO))?)?)"
)
"""What Kubernetes injects for a Service named ``offboard`` (or ``offboard-*``) in the
namespace (``OFFBOARD_SERVICE_HOST``, ``OFFBOARD_PORT_8080_TCP``…): not settings."""


def setting_names(model: type[BaseModel], prefix: str = "OFFBOARD") -> tuple[set[str], set[str]]:
    """Every setting's variable name, and the names of table settings (dicts), whose
    variables may go one level deeper."""
    names: set[str] = set()
    tables: set[str] = set()
    for field, info in model.model_fields.items():
        name = f"{prefix}_{field.upper()}" if prefix == "OFFBOARD" else f"{prefix}__{field.upper()}"
        names.add(name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            more, deeper = setting_names(annotation, name)
            names |= more
            tables |= deeper
        elif typing.get_origin(annotation) is dict:
            tables.add(name)
    return names, tables


def structured_names(
    model: type[BaseModel], prefix: str = "OFFBOARD"
) -> tuple[dict[str, str], set[str]]:
    """The variables pydantic-settings reads as JSON: sections (each with its first key's
    variable, as an example) and list or table settings."""
    sections: dict[str, str] = {}
    structured: set[str] = set()
    for field, info in model.model_fields.items():
        name = f"{prefix}_{field.upper()}" if prefix == "OFFBOARD" else f"{prefix}__{field.upper()}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            sections[name] = f"{name}__{next(iter(annotation.model_fields)).upper()}"
            more, deeper = structured_names(annotation, name)
            sections |= more
            structured |= deeper
        elif _is_list_or_table(annotation):
            structured.add(name)
    return sections, structured


def _is_list_or_table(annotation: object) -> bool:
    """``list[str]``, ``dict[str, float]``, and either of them ``| None``."""
    kinds = (list, dict, set, frozenset, tuple)
    if typing.get_origin(annotation) in kinds:
        return True
    return any(typing.get_origin(arg) in kinds for arg in typing.get_args(annotation))


def unknown_variables(model: type[BaseModel], environ: Iterable[str]) -> list[str]:
    """One ``NAME: problem`` line per ``OFFBOARD_*`` variable that names no setting."""
    names, tables = setting_names(model)
    problems = []
    for given in sorted(environ):
        name = given.upper()  # pydantic-settings reads the names case-insensitively
        if not maybe_setting(name):
            continue
        if name in names or any(name.startswith(f"{table}__") for table in tables):
            continue
        problems.append(f"{given}: names no setting{_suggestion(name, names)}")
    return problems


def maybe_setting(name: str) -> bool:
    """True for an ``OFFBOARD_*`` variable that is meant as a setting (not tooling's)."""
    upper = name.upper()
    return upper.startswith(PREFIX) and not _not_a_setting(upper)


def _not_a_setting(name: str) -> bool:
    return (
        name in NOT_SETTINGS
        or name.startswith(_NOT_SETTINGS_PREFIX)
        or ("__" not in name and _SERVICE_LINK.fullmatch(name) is not None)
    )


def _suggestion(name: str, names: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.8)
    if close:
        return f"; did you mean {close[0]}?"
    return " (sections and keys are joined by two underscores: OFFBOARD_SECTION__KEY)"


def key_meant(model: type[BaseModel], location: tuple[str, ...]) -> str | None:
    """The known key closest to the misspelt last part of ``location`` (a file's key), in
    the section the earlier parts name; None when nothing is close."""
    for part in location[:-1]:
        info = model.model_fields.get(part)
        annotation = info.annotation if info is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    close = difflib.get_close_matches(location[-1], sorted(model.model_fields), n=1, cutoff=0.75)
    return close[0] if close else None
