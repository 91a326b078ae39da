"""The sample payloads our fast tests feed the adapters conform to Atlassian's OpenAPI specs.

The specs are read from ``/work/shared/specs/atlassian`` (never copied into the repo); the
tests skip with a reason when that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from offboard.adapters.atlassian_org import requests as rq
from offboard.adapters.atlassian_scim.wire import active_patch

from .conftest import sample

SPECS = Path("/work/shared/specs/atlassian")
pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"vendor specs absent: {SPECS}")


def _spec(name: str) -> dict[str, Any]:
    return dict(json.loads((SPECS / name).read_text(encoding="utf-8"), object_hook=_strip_pattern))


def _strip_pattern(node: dict[str, Any]) -> dict[str, Any]:
    # The user management spec writes the account-id pattern with a trailing newline
    # ("...{1,128}\n"), which no id can match; the documented pattern is without it.
    if isinstance(node.get("pattern"), str):
        node["pattern"] = node["pattern"].strip()
    return node


def _check(spec: str, ref: str, instance: object) -> None:
    """Validate against a spec component; the spec itself is the root for ``$ref``s."""
    document = _spec(spec)
    schema = {**document, "$ref": ref}
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)


ORG_SPEC = "organizations-api.openapi.json"
UM_SPEC = "user-management-api.openapi.json"
SCIM_SPEC = "user-provisioning-scim-api.openapi.json"
ORG_ERRORS = sample("atlassian-org-errors.json")
UM_ERRORS = sample("atlassian-um-errors.json")
SCIM = sample("atlassian-scim-users.json")


@pytest.mark.parametrize(
    ("ref", "instance"),
    [
        ("#/components/schemas/DomainPage", sample("atlassian-org-v1-domains-page-1.json")),
        ("#/components/schemas/DomainPage", sample("atlassian-org-v1-domains-page-2.json")),
        ("#/components/schemas/OrgPage", sample("atlassian-org-v1-orgs-page.json")),
        ("#/components/schemas/ProxyError", ORG_ERRORS["proxy-401"]),
        ("#/components/schemas/ProxyError", ORG_ERRORS["proxy-429"]),
        ("#/components/schemas/NoPermsError", ORG_ERRORS["no-perms-403"]),
        ("#/components/schemas/Errors", ORG_ERRORS["application-404-8"]),
        ("#/components/schemas/Errors.ApplicationErrors.Model", ORG_ERRORS["application-403-3"]),
    ],
)
def test_org_samples(ref: str, instance: object) -> None:
    _check(ORG_SPEC, ref, instance)


def _um_response_schema(name: str) -> str:
    return f"#/components/responses/{name}/content/application~1json/schema"


@pytest.mark.parametrize(
    ("response", "body"),
    [
        ("Unauthorized", "unauthorized"),
        ("Forbidden", "forbidden"),
        ("Forbidden.Action", "forbidden.action.google"),
        ("Forbidden.Action", "forbidden.action.notMyself"),
        ("Conflict.LifecycleError", "conflict.lifecycleErrors"),
        ("NotFound.Account", "accountNotFound"),
    ],
)
def test_user_management_error_samples(response: str, body: str) -> None:
    document = _spec(UM_SPEC)
    if "application/json" not in document["components"]["responses"][response].get("content", {}):
        pytest.skip(f"{response} has no JSON schema in the spec")
    _check(UM_SPEC, _um_response_schema(response), UM_ERRORS[body])


def test_permission_samples() -> None:
    ref = "#/paths/~1users~1{account_id}~1manage/get/responses/200/content/application~1json/schema"
    for body in sample("atlassian-um-permissions.json").values():
        _check(UM_SPEC, ref, body)


@pytest.mark.parametrize(
    ("ref", "instance"),
    [
        ("#/components/schemas/ScimUserListResponse", SCIM["list-page-1"]),
        ("#/components/schemas/ScimUserListResponse", SCIM["list-page-2"]),
        ("#/components/schemas/ScimError", SCIM["scim-error-400"]),
        ("#/components/schemas/ScimError", SCIM["scim-error-404"]),
        ("#/components/schemas/Failure", SCIM["failure-401"]),
    ],
)
def test_scim_samples_and_our_patch_body(ref: str, instance: object) -> None:
    _check(SCIM_SPEC, ref, instance)


def test_our_request_paths_exist_in_the_specs() -> None:
    client = httpx.AsyncClient(base_url="https://api.atlassian.com")
    org_paths = set(_spec(ORG_SPEC)["paths"])
    um_paths = set(_spec(UM_SPEC)["paths"])
    built = [
        rq.list_orgs(client).url.path,
        rq.list_domains(client, "{orgId}", None).url.path,
        rq.list_directories(client, "{orgId}", None).url.path,
    ]
    for path in built:
        assert path.removeprefix("/admin") in org_paths
    for verb in ("disable", "enable", "delete"):
        path = rq.lifecycle(client, "{account_id}", verb).url.path
        assert path in um_paths
    assert rq.permissions(client, "{account_id}", "x").url.path in um_paths


def test_our_patch_body_uses_the_documented_field_names() -> None:
    """``value`` is typed as Jackson's ``JsonNode`` (an object) in the generated spec, while
    a boolean is what Atlassian's own examples send; so the names are checked, not the value.
    The schema spells the array ``operations``; we send RFC 7644's ``Operations`` (Atlassian's
    group example and the production identity providers do), so that name compares folded."""
    schema = _spec(SCIM_SPEC)["components"]["schemas"]
    body = active_patch(False)
    # SCIM attribute names are case-insensitive (RFC 7643 §2.1): we send ``Operations``.
    documented = {name.lower() for name in schema["RequestPayloadToPatch"]["properties"]}
    assert {name.lower() for name in body} <= documented
    operation_fields = set(schema["OperationForAScimPatch"]["properties"])
    assert all(set(op) <= operation_fields for op in body["Operations"])
