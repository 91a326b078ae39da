"""The example configuration and the configuration reference, both generated from the models.

The attribute docstrings of :mod:`offboard.settings` are the single source: `config init`
writes them as TOML comments and `config reference` as the Markdown of
docs/reference/configuration.md (a test fails when that file is out of date). They are read
here from the source, not by pydantic when the models are built (``use_attribute_docstrings``
parses each model's source: about half of the settings' import time, paid by every command).
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import itertools
import json
import re
import textwrap
import types
import typing
from datetime import date, datetime, time, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from offboard.settings import Settings

_SECRET_EXAMPLES = {
    "client_secret_file": "/run/credentials/offboard.service/keycloak-client-secret",
    "api_key_file": "/run/credentials/offboard.service/atlassian-api-key",
}


def format_duration(value: timedelta) -> str:
    """A timedelta as the settings accept it back: ``0``, ``0.3s``, ``90s``, ``15m``, ``2h``."""
    if value.total_seconds() % 1:
        return f"{value.total_seconds():g}s"  # e.g. the wave linger, 0.3s
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s" if seconds else "0"


def toml_value(value: Any) -> str:
    """A Python value as a TOML literal (the few shapes the settings use)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return json.dumps(str(value.value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, timedelta):
        return json.dumps(format_duration(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # TOML's own date, time and date-time literals, unquoted
    if isinstance(value, Path | str):
        return json.dumps(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _key(key: object) -> str:
    """A table key, quoted unless bare (``"*"``, the price of every other product)."""
    text = str(key.value) if isinstance(key, Enum) else str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text)


def sections(model: type[BaseModel], prefix: str = "") -> list[tuple[str, type[BaseModel]]]:
    """Every table of the configuration, nested ones (policy.thresholds) after their parent."""
    found: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            found.append((prefix + name, sub))
            found.extend(sections(sub, f"{prefix}{name}."))
    return found


def attribute_docs(model: type[BaseModel]) -> dict[str, str]:
    """Each field's docstring (the string after its annotation), the model's own first and
    then its bases', as pydantic's ``use_attribute_docstrings`` would read them."""
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel:
            found.update(_class_attribute_docs(cls))
    return found


@functools.cache
def _class_attribute_docs(cls: type[BaseModel]) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    tree = ast.parse(source).body[0]
    docs: dict[str, str] = {}
    body = tree.body if isinstance(tree, ast.ClassDef) else []
    for before, node in itertools.pairwise(body):
        if (
            isinstance(before, ast.AnnAssign)
            and isinstance(before.target, ast.Name)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            docs[before.target.id] = inspect.cleandoc(node.value.value)
    return docs


def _leaves(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """The model's own keys (not its tables), each with its description from its docstring."""
    docs = attribute_docs(model)
    return [
        (name, _described(info, docs.get(name)))
        for name, info in model.model_fields.items()
        if not (isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel))
    ]


def _described(info: FieldInfo, doc: str | None) -> FieldInfo:
    """``info`` with its docstring as its description, unless a Field() gave one."""
    if info.description is not None or doc is None:
        return info
    described = copy.copy(info)
    described.description = doc
    return described


def _default(info: FieldInfo) -> Any:
    return info.get_default(call_default_factory=True)


def _is_secret(info: FieldInfo) -> bool:
    return SecretStr in typing.get_args(info.annotation) or info.annotation is SecretStr


def example_toml() -> str:
    """A commented offboard.toml: required keys filled with examples, the rest commented out."""
    lines = [
        "# offboard configuration. Every key is described in docs/reference/configuration.md.",
        "# Environment variables override this file: OFFBOARD_<SECTION>__<KEY>, e.g.",
        "# OFFBOARD_KEYCLOAK__CLIENT_SECRET. Keep secrets out of this file: use the",
        "# environment or the *_file keys.",
    ]
    for name, section in sections(Settings):
        lines += ["", f"# {_plain(_doc(section))}", f"[{name}]"]
        for key, info in _leaves(section):
            lines.append(f"# {_plain(info.description)}".rstrip())
            lines.append(_example_line(key, info))
    return "\n".join(lines) + "\n"


def _example_line(key: str, info: FieldInfo) -> str:
    if info.is_required():
        return f"{key} = {toml_value((info.examples or ['CHANGE ME'])[0])}"
    if key in _SECRET_EXAMPLES:
        return f"# {key} = {toml_value(_SECRET_EXAMPLES[key])}"
    default = _default(info)
    if default is None or _is_secret(info):
        return f"# {key} ="
    return f"# {key} = {toml_value(default)}"


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def _plain(text: str | None) -> str:
    """A docstring as one line of prose: wrapped docstrings must not break a TOML comment."""
    return " ".join((text or "").replace("``", "`").split())


def _type_name(annotation: Any) -> str:
    """A reader's name for a settings type: ``duration``, ``secret``, ``list of strings``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return _type_name(args[0]) if len(args) == 1 else " or ".join(map(_type_name, args))
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{toml_value(a)}`" for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}s"
    if origin is dict:
        return f"table of {_type_name(args[0])} to {_type_name(args[1])}"
    names = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        Path: "path",
        SecretStr: "secret",
        timedelta: "duration",
        date: "date",
        time: "time of day",
    }
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(f"`{member.value}`" for member in annotation)
    if annotation in names:
        return names[annotation]
    return str(getattr(annotation, "__name__", annotation)).lower()


def _default_cell(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    default = _default(info)
    if default is None:
        return "(unset)"
    if default == [] or default == {}:
        return "(empty)"
    return f"`{toml_value(default)}`"


def reference_markdown() -> str:
    """docs/reference/configuration.md, generated."""
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated by `offboard config reference`; edit the docstrings in",
        "src/offboard/settings/ instead. tests/cli/test_config_cmd.py fails when it is stale. -->",
        "",
        "offboard reads a TOML file (`--config PATH`, else `$OFFBOARD_CONFIG`, else",
        "`./offboard.toml`) and `OFFBOARD_*` environment variables, which override the file and",
        "nest with `__`; a list or table in a variable is JSON (`'[\"example.com\"]'`).",
        "Durations need a unit: `30s`, `15m`, `2h`, `7d`, `1w`, or several: `1h30m`, `1d 12h`",
        "(a bare `15` is refused: seconds or minutes?); `0` needs none; ISO 8601 (`P1DT2H`) is",
        "accepted; a negative duration, or one over ten years (a typo), is refused. The same",
        "parser reads the command line's durations (`--since`, `--max-age`). A wrong choice,",
        "time (`HH:MM`, UTC) or date (`YYYY-MM-DD`) is reported with what is accepted.",
        "Secrets are read from the environment or from a `*_file` key, never printed: `config",
        "show` redacts them. Every invalid value is reported as `section.key: problem` with",
        "exit code 4. `offboard config init` writes a commented example.",
        "",
        "A relative path in the file (`store.path`, every `*_file`, `ca_bundle`,",
        "`tls_cert_file`, `tls_key_file`, a `sqlite:///relative.db` `store.url`) is resolved",
        "against the folder of that file, so a command run from elsewhere finds the same store",
        "and secrets; `~` is expanded. A relative path in an `OFFBOARD_*` variable is relative",
        "to the working directory.",
        "`config show` prints the resolved paths.",
        "",
        "An `OFFBOARD_*` variable that names no setting is refused like an unknown key in the",
        "file (exit 4, with the closest valid name): a typo such as",
        "`OFFBOARD_POLICY_PROTECTED_EMAILS` (one underscore) must not leave a protection list",
        "empty. Not settings, and so left alone: `OFFBOARD_CONFIG` (the file's path),",
        "`OFFBOARD_TEST_*` and the tooling's `OFFBOARD_AUDIT_REQUIRED`, `OFFBOARD_FLOORS_VENV`,",
        "`OFFBOARD_KEYCLOAK_JAVA_HOME`, `OFFBOARD_HOSTILE_REPORT`, `OFFBOARD_FAULTS_OUT`, and",
        "the service links Kubernetes injects for a Service named `offboard`",
        "(`OFFBOARD_SERVICE_HOST`, `OFFBOARD_PORT_8080_TCP`, …).",
    ]
    for name, section in sections(Settings):
        out += ["", f"## `[{name}]`", "", _plain(_doc(section)), ""]
        out += ["| key | type | default | description |", "| --- | --- | --- | --- |"]
        for key, info in _leaves(section):
            env = f"OFFBOARD_{name.upper().replace('.', '__')}__{key.upper()}"
            desc = _plain(info.description).replace("|", "\\|")  # one table row each
            out.append(
                f"| `{key}` | {_type_name(info.annotation)} | {_default_cell(info)} "
                f"| {desc} Env: `{env}`. |"
            )
    return "\n".join(out) + "\n"
