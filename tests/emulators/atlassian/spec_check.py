"""Validate emulator responses against the vendor OpenAPI documents (never copied here)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SPECS = Path("/work/shared/specs/atlassian")
ORG_SPEC = "organizations-api.openapi.json"
UM_SPEC = "user-management-api.openapi.json"
SCIM_SPEC = "user-provisioning-scim-api.openapi.json"

needs_specs = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"vendor OpenAPI specs not available at {SPECS}"
)


@cache
def _spec(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPECS / name).read_text(encoding="utf-8"))
    return data


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def response_schema(name: str, path: str, method: str, status: int) -> dict[str, Any] | None:
    """The JSON schema of one documented response, or ``None`` when it has no body."""
    spec = _spec(name)
    response = _resolve(spec, spec["paths"][path][method.lower()]["responses"][str(status)])
    content = response.get("content")
    if not content:
        return None
    media = content.get("application/json") or next(iter(content.values()))
    schema: dict[str, Any] = media["schema"]
    return schema


def assert_matches(
    name: str, path: str, response: httpx.Response, *, check_body: bool = True
) -> None:
    """Fail unless the response's status is documented and its body fits the schema."""
    method = response.request.method
    operation = _spec(name)["paths"][path][method.lower()]
    assert str(response.status_code) in operation["responses"], (
        f"{method} {path} answered {response.status_code}, not documented"
    )
    schema = response_schema(name, path, method, response.status_code)
    if not check_body:
        return
    if schema is None:
        assert not response.content
        return
    registry: Registry[Any] = Registry().with_resource(
        "urn:spec", Resource.from_contents(_rebased_spec(name), default_specification=DRAFT7)
    )
    rooted = _rebase(schema)
    errors = sorted(
        Draft7Validator(rooted, registry=registry).iter_errors(response.json()), key=str
    )
    assert not errors, f"{method} {path} {response.status_code}: {errors[0].message}"


@cache
def _rebased_spec(name: str) -> Any:
    return _rebase(_spec(name))


def _rebase(node: Any) -> Any:
    """Point local ``#/...`` references at the whole spec document.

    Patterns are stripped: the user-management spec's ``AccountId`` pattern ends with a
    stray newline (a YAML folding artefact) that no real account id contains.
    """
    if isinstance(node, dict):
        return {k: _rebase_value(k, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    return node


def _rebase_value(key: str, value: Any) -> Any:
    if key == "$ref" and isinstance(value, str):
        return f"urn:spec{value}"
    if key == "pattern" and isinstance(value, str):
        return value.strip()
    return _rebase(value)
