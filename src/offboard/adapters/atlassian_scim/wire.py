"""SCIM wire models for Atlassian's user provisioning API.

Users are read with our own small pydantic model rather than ``scim2_models.User``:
Atlassian adds its own extension (``urn:scim:schemas:extension:atlassian-external:1.0``
holding the linked ``atlassianAccountId``) that is not declared in ``schemas`` reliably,
and we need only a handful of fields. Error bodies are parsed with ``scim2_models.Error``,
which fits the documented ``ScimError`` exactly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

ATLASSIAN_EXTENSION = "urn:scim:schemas:extension:atlassian-external:1.0"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class ScimEmail(Wire):
    value: str
    primary: bool | None = None


class AtlassianExtension(Wire):
    atlassian_account_id: str | None = Field(default=None, alias="atlassianAccountId")


class ScimUser(Wire):
    id: str
    user_name: str | None = Field(default=None, alias="userName")
    external_id: str | None = Field(default=None, alias="externalId")
    active: bool = True
    """Defaults to true when not sent, as Atlassian documents."""
    emails: list[ScimEmail] = []
    atlassian: AtlassianExtension | None = Field(default=None, alias=ATLASSIAN_EXTENSION)

    @property
    def account_id(self) -> str | None:
        return self.atlassian.atlassian_account_id if self.atlassian else None


class ScimListResponse(Wire):
    total_results: int = Field(alias="totalResults")
    start_index: int = Field(default=1, alias="startIndex")
    items_per_page: int | None = Field(default=None, alias="itemsPerPage")
    resources: list[ScimUser] = Field(default=[], alias="Resources")


class Failure(Wire):
    """401/403 body of the SCIM API: ``{"error": ..., "traceId": ...}``."""

    error: str
    trace_id: str | None = Field(default=None, alias="traceId")


def active_patch(active: bool) -> dict[str, object]:
    """PATCH body setting ``active``.

    The array is ``Operations``, as RFC 7644, Atlassian's own group PATCH example and the
    production identity providers (Okta, Entra ID) send it. Atlassian's OpenAPI schema names
    it ``operations`` (lower case) and jira.js follows that; Atlassian accepts what the
    identity providers send, so we send that form.
    """
    return {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "active", "value": active}],
    }
