"""SCIM wire models for Atlassian's user provisioning API.

Users are read with our own small pydantic model rather than ``scim2_models.User``:
Atlassian adds its own extension (``urn:scim:schemas:extension:atlassian-external:1.0``
holding the linked ``atlassianAccountId``) that is not declared in ``schemas`` reliably,
and we need only a handful of fields. Error bodies are parsed with ``scim2_models.Error``,
which fits the documented ``ScimError`` exactly.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from offboard.adapters.answers import OrAbsent, WireModel
from offboard.ports import PermanentError

ATLASSIAN_EXTENSION = "urn:scim:schemas:extension:atlassian-external:1.0"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Wire(WireModel):
    """SCIM wire models: extra fields ignored, ``null`` ones absent."""


class ScimEmail(Wire):
    value: str | None = None
    """Not required by Atlassian's ``ScimUserEmail``: one without it is kept, never guessed."""
    primary: bool | None = None


class AtlassianExtension(Wire):
    atlassian_account_id: str | None = Field(default=None, alias="atlassianAccountId")


class ScimUser(Wire):
    id: str
    user_name: str | None = Field(default=None, alias="userName")
    external_id: str | None = Field(default=None, alias="externalId")
    active: Annotated[bool, OrAbsent] = True
    """Defaults to true when not sent, as Atlassian documents."""
    emails: Annotated[list[ScimEmail], OrAbsent] = Field(default_factory=list)
    atlassian: AtlassianExtension | None = Field(default=None, alias=ATLASSIAN_EXTENSION)

    @property
    def account_id(self) -> str | None:
        return self.atlassian.atlassian_account_id if self.atlassian else None


class ScimListResponse(Wire):
    total_results: int | None = Field(default=None, alias="totalResults")
    start_index: int | None = Field(default=None, alias="startIndex")
    items_per_page: int | None = Field(default=None, alias="itemsPerPage")
    resources: list[ScimUser] = Field(default=[], alias="Resources")


def next_start(
    asked: int, page_start: int | None, returned: int, total: int | None, what: str
) -> int | None:
    """Where the next page of a SCIM listing starts, None after the last page.

    Atlassian's ``ScimUserListResponse`` requires none of its fields; RFC 7644 §3.4.2.4
    says ``startIndex`` is the 1-based index of the page's first result. A page that starts
    elsewhere than asked (a server or cache ignoring ``startIndex``) would be walked for
    ever or skip people, so it is refused; without ``totalResults`` the walk ends on an
    empty page."""
    if returned == 0:
        return None
    if page_start is not None and page_start != asked:
        raise PermanentError(
            f"{what}: the SCIM server answered from startIndex {page_start}, not the "
            f"{asked} asked; the listing cannot be walked whole"
        )
    following = asked + returned
    return None if total is not None and following > total else following


class Failure(Wire):
    """401/403 body of the SCIM API: ``{"error": ..., "traceId": ...}``."""

    error: str
    trace_id: str | None = Field(default=None, alias="traceId")


def active_patch(active: bool) -> dict[str, object]:
    """PATCH body setting ``active``.

    Atlassian's OpenAPI names the array ``operations`` (lower case), RFC 7644 says
    ``Operations``, and the identity providers known to work with Atlassian in production
    (Okta, Microsoft Entra ID) send ``Operations``. SCIM attribute names are
    case-insensitive (RFC 7643 §2.1), so the spelling known to work is the one sent.
    """
    return {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "active", "value": active}],
    }
