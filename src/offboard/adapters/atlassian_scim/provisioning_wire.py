"""Wire models and request bodies for provisioning: full users, groups, PATCH operations.

Bodies follow Atlassian's user provisioning reference: users carry ``userName``, one primary
work email, ``name {givenName, familyName}``, ``displayName`` and ``externalId``; groups
``displayName`` and ``externalId``; membership changes are PATCH ``add``/``remove`` on
``members`` with ``[{"value": scimUserId}]``. PATCH sends ``Operations`` (RFC 7644 and
Atlassian's own group example), the form production identity providers send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import Field

from offboard.adapters.atlassian_scim.wire import PATCH_SCHEMA, ScimUser, Wire
from offboard.core.provisioning_model import PROFILE_ATTRIBUTES, ScimGroupRecord, ScimUserRecord

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


class ScimName(Wire):
    given_name: str | None = Field(default=None, alias="givenName")
    family_name: str | None = Field(default=None, alias="familyName")


class ScimGroupRef(Wire):
    value: str
    display: str | None = None


class ProvisionedUser(ScimUser):
    """A SCIM user with the profile fields provisioning compares."""

    name: ScimName | None = None
    display_name: str | None = Field(default=None, alias="displayName")
    groups: tuple[ScimGroupRef, ...] = ()
    title: str | None = None
    department: str | None = None
    organization: str | None = None
    timezone: str | None = None
    preferred_language: str | None = Field(default=None, alias="preferredLanguage")

    def extra(self) -> tuple[tuple[str, str], ...]:
        values = {
            "title": self.title, "department": self.department,
            "organization": self.organization, "timezone": self.timezone,
            "preferredLanguage": self.preferred_language,
        }  # fmt: skip
        return tuple(sorted((k, v) for k, v in values.items() if v))

    def record(self) -> ScimUserRecord:
        primary = next((e for e in self.emails if e.primary), None) or next(iter(self.emails), None)
        return ScimUserRecord(
            scim_id=self.id,
            user_name=self.user_name or "",
            external_id=self.external_id,
            email=primary.value if primary else None,
            given_name=(self.name.given_name if self.name else None) or "",
            family_name=(self.name.family_name if self.name else None) or "",
            display_name=self.display_name or "",
            active=self.active,
            extra=self.extra(),
        )


class ScimMember(Wire):
    value: str


class ScimGroup(Wire):
    id: str
    display_name: str = Field(alias="displayName")
    external_id: str | None = Field(default=None, alias="externalId")
    members: tuple[ScimMember, ...] = ()

    def record(self) -> ScimGroupRecord:
        return ScimGroupRecord(
            self.id, self.display_name, self.external_id, frozenset(m.value for m in self.members)
        )


class UserPage(Wire):
    total_results: int | None = Field(default=None, alias="totalResults")
    start_index: int | None = Field(default=None, alias="startIndex")
    resources: list[ProvisionedUser] = Field(default=[], alias="Resources")


class GroupPage(Wire):
    total_results: int | None = Field(default=None, alias="totalResults")
    start_index: int | None = Field(default=None, alias="startIndex")
    resources: list[ScimGroup] = Field(default=[], alias="Resources")


def user_body(profile: Mapping[str, str], external_id: str) -> dict[str, object]:
    """POST /Users body from the planned profile."""
    return {
        "schemas": [USER_SCHEMA],
        "userName": profile["userName"],
        "externalId": external_id,
        "active": True,
        "displayName": profile["displayName"],
        "name": {"givenName": profile["givenName"], "familyName": profile["familyName"]},
        "emails": [{"value": profile["email"], "type": "work", "primary": True}],
        **{k: v for k, v in profile.items() if k in PROFILE_ATTRIBUTES},
    }


def profile_patch(changes: Mapping[str, str]) -> dict[str, object]:
    """PATCH replacing the changed profile fields, one operation each."""
    paths = {"givenName": "name.givenName", "familyName": "name.familyName"}
    operations: list[dict[str, object]] = []
    for name, value in changes.items():
        if name == "email":
            emails = [{"value": value, "type": "work", "primary": True}]
            operations.append({"op": "replace", "path": "emails", "value": emails})
        else:
            operations.append({"op": "replace", "path": paths.get(name, name), "value": value})
    return {"schemas": [PATCH_SCHEMA], "Operations": operations}


def group_body(display_name: str, external_id: str) -> dict[str, object]:
    return {"schemas": [GROUP_SCHEMA], "displayName": display_name, "externalId": external_id}


def members_patch(op: str, scim_ids: Iterable[str]) -> dict[str, object]:
    """PATCH ``add`` or ``remove`` of ``members`` (the value-list form of Atlassian's example)."""
    value = [{"value": scim_id} for scim_id in scim_ids]
    return {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": op, "path": "members", "value": value}],
    }
