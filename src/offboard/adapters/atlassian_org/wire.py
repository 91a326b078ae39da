"""Wire models of the Organizations and User management APIs, as Atlassian documents them.

Only the fields offboard reads are declared; everything else is ignored, so additions on
Atlassian's side never break a snapshot. v1 and v2 org endpoints speak camelCase (v2) or
JSON:API-like shapes (v1); user management speaks snake_case and key-based errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from offboard.adapters.answers import OrAbsent, WireModel


class Wire(WireModel):
    """Only the fields offboard reads; extra ones ignored, ``null`` ones absent."""


def in_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


UtcDatetime = Annotated[datetime, AfterValidator(in_utc)]
"""A vendor timestamp, always aware: ISO-8601 allows one without an offset (and a date
alone), which compared with offboard's aware clock raises a TypeError. Atlassian's are UTC."""


class Links(Wire):
    self_: str | None = Field(default=None, alias="self")
    prev: str | None = None
    next: str | None = None


class OrgAttributes(Wire):
    name: Annotated[str, OrAbsent] = ""


class OrgModel(Wire):
    id: str
    attributes: Annotated[OrgAttributes, OrAbsent] = OrgAttributes()


class OrgPage(Wire):
    data: list[OrgModel] = Field(default_factory=list)
    links: Annotated[Links, OrAbsent] = Links()


class OrgDocument(Wire):
    data: OrgModel


class DomainClaim(Wire):
    type: str | None = None
    status: str | None = None


class DomainAttributes(Wire):
    name: str
    claim: Annotated[DomainClaim, OrAbsent] = DomainClaim()


class DomainModel(Wire):
    id: str
    attributes: DomainAttributes


class DomainPage(Wire):
    data: list[DomainModel] = Field(default_factory=list)
    links: Annotated[Links, OrAbsent] = Links()


class Directory(Wire):
    directory_id: str = Field(alias="directoryId")
    name: Annotated[str, OrAbsent] = ""


class DirectoryPage(Wire):
    data: list[Directory] = Field(default_factory=list)
    links: Annotated[Links, OrAbsent] = Links()


class DirectoryUser(Wire):
    """``MultiDirectoryUser`` (v2 search, list and details)."""

    account_id: str = Field(alias="accountId")
    account_type: str | None = Field(default=None, alias="accountType")
    status: str | None = None
    account_status: str | None = Field(default=None, alias="accountStatus")
    membership_status: str | None = Field(default=None, alias="membershipStatus")
    name: str | None = None
    nickname: str | None = None
    email: str | None = None
    claim_status: str | None = Field(default=None, alias="claimStatus")
    platform_roles: list[str] | None = Field(default=None, alias="platformRoles")
    management_source: str | None = Field(default=None, alias="managementSource")
    for_deletion: bool | None = Field(default=None, alias="forDeletion")
    deactivated_on: str | None = Field(default=None, alias="deactivatedOn")
    added_to_org: datetime | None = Field(default=None, alias="addedToOrg")
    """Made aware (``in_utc``) by ``casting.to_account``: a validator here would cost each
    of 50,000 accounts a call back into Python."""


class DirectoryUserPage(Wire):
    data: list[DirectoryUser] = Field(default_factory=list)
    links: Annotated[Links, OrAbsent] = Links()


class DirectoryUserDocument(Wire):
    data: DirectoryUser


class Reason(Wire):
    key: str


class Permission(Wire):
    """One entry of the user management permissions map."""

    allowed: bool
    reason: Reason | None = None


# Error bodies: the kind depends on which layer answered.


class ApplicationError(Wire):
    id: str | None = None
    status: str | int | None = None
    code: str | None = None
    title: str | None = None
    detail: str | None = None


class ApplicationErrors(Wire):
    """``{"errors": [...]}`` of the org API (``ADMIN-*`` codes) and the v2 ``Errors``."""

    errors: list[ApplicationError]


class ProxyError(Wire):
    """``{"code": 401|429, "message": ...}`` from the gateway."""

    code: int
    message: Annotated[str, OrAbsent] = ""


class NoPermsError(Wire):
    """``{"timestamp","path","status":403,"error":"Forbidden","message","requestId"}``."""

    status: int
    error: str
    message: Annotated[str, OrAbsent] = ""


class KeyedError(Wire):
    """User management errors: ``{"key": "forbidden.action", "context": {...}}``."""

    key: str
    context: dict[str, Any] | None = None
