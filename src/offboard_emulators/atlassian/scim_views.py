"""SCIM resource renderings and discovery documents (reference §3.3, §3.8)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import scim2_models

from offboard_emulators.atlassian.model import ScimDirectory, ScimGroup, ScimUser
from offboard_emulators.atlassian.scim_patch import ATLASSIAN_EXTERNAL, CORE_USER, ENTERPRISE_USER

CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
# The attributes Atlassian documents for users (reference §3.3); RFC 7643 has more.
USER_ATTRIBUTES = (
    "userName", "name", "displayName", "nickName", "title", "preferredLanguage",
    "timezone", "active", "emails", "phoneNumbers", "groups",
)  # fmt: skip
ENTERPRISE_ATTRIBUTES = ("organization", "department")


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _meta(
    kind: str, location: str, created: datetime | None, modified: datetime | None
) -> dict[str, Any]:
    meta = {"resourceType": kind.upper(), "location": location}
    stamps = {"created": _stamp(created), "lastModified": _stamp(modified)}
    return {**meta, **{k: v for k, v in stamps.items() if v is not None}}


def render_user(directory: ScimDirectory, user: ScimUser, base: str) -> dict[str, Any]:
    """A ``ScimUser`` with its groups and its link to the Atlassian account."""
    schemas = [CORE_USER]
    if ENTERPRISE_USER in user.attributes:
        schemas.append(ENTERPRISE_USER)
    schemas.append(ATLASSIAN_EXTERNAL)
    groups = [
        {
            "type": "direct",
            "value": g.scim_id,
            "display": g.display_name,
            "$ref": f"{base}/Groups/{g.scim_id}",
        }
        for g in directory.groups.values()
        if user.scim_id in g.members
    ]
    body: dict[str, Any] = {"schemas": schemas, "id": user.scim_id}
    if user.external_id is not None:
        body["externalId"] = user.external_id
    body["userName"] = user.user_name
    body.update({k: v for k, v in user.attributes.items() if k != ATLASSIAN_EXTERNAL})
    body["active"] = user.active
    if groups:
        body["groups"] = groups
    body[ATLASSIAN_EXTERNAL] = {"atlassianAccountId": user.account_id}
    location = f"{base}/Users/{user.scim_id}"
    body["meta"] = _meta("User", location, user.created, user.last_modified)
    return body


def render_group(directory: ScimDirectory, group: ScimGroup, base: str) -> dict[str, Any]:
    """A ``ScimGroup`` with its members."""
    members = []
    for member_id in group.members:
        member = directory.users.get(member_id)
        display = member.attributes.get("displayName", member.user_name) if member else None
        entry = {"type": "User", "value": member_id, "$ref": f"{base}/Users/{member_id}"}
        members.append({**entry, "display": display} if display else entry)
    body: dict[str, Any] = {"schemas": [CORE_GROUP], "id": group.scim_id}
    if group.external_id is not None:
        body["externalId"] = group.external_id
    body["displayName"] = group.display_name
    body["members"] = members
    location = f"{base}/Groups/{group.scim_id}"
    body["meta"] = _meta("Group", location, group.created, group.last_modified)
    return body


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> dict[str, Any]:
    """A SCIM ``ListResponse``."""
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def service_provider_config(base: str, max_results: int) -> dict[str, Any]:
    """Values implied by the documents: PATCH and filter yes; bulk, sort, etag no."""
    return {
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://developer.atlassian.com/cloud/admin/user-provisioning/rest/",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The directory API key, sent as Authorization: Bearer <key>",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base}/ServiceProviderConfig",
        },
    }


def resource_types(base: str) -> dict[str, dict[str, Any]]:
    """The User and Group resource types, by name."""
    user = {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": CORE_USER,
        "schemaExtensions": [{"schema": ENTERPRISE_USER, "required": False}],
        "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/User"},
    }
    group = {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "Group",
        "schema": CORE_GROUP,
        "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/Group"},
    }
    return {"User": user, "Group": group}


@cache
def _schema_documents() -> dict[str, dict[str, Any]]:
    def generated(
        model: type[scim2_models.Resource[Any]] | type[scim2_models.Extension],
        keep: tuple[str, ...] | None,
    ) -> dict[str, Any]:
        document: dict[str, Any] = model.to_schema().model_dump(mode="json", exclude_none=True)
        if keep is not None:
            document["attributes"] = [a for a in document["attributes"] if a["name"] in keep]
        for attribute in document["attributes"]:
            if attribute["name"] == "emails":  # Atlassian requires an email address
                attribute["required"] = True
                for sub in attribute.get("subAttributes", []):
                    sub["required"] = sub["required"] or sub["name"] == "value"
        return document

    return {
        CORE_USER: generated(scim2_models.User, USER_ATTRIBUTES),
        CORE_GROUP: generated(scim2_models.Group, None),
        ENTERPRISE_USER: generated(scim2_models.EnterpriseUser, ENTERPRISE_ATTRIBUTES),
    }


def schemas(base: str) -> dict[str, dict[str, Any]]:
    """Schema documents by URN, with their ``meta.location`` under ``base``."""
    return {
        urn: {**doc, "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{urn}"}}
        for urn, doc in _schema_documents().items()
    }
