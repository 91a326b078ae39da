"""Wire models of the use-and-billing reads, as Atlassian documents them.

``UserPage`` of ``GET /admin/v1/orgs/{orgId}/users`` (snake_case, ``links.next`` a URL),
``UserProductAccessActivityPage`` of ``.../directory/users/{accountId}/last-active-dates``
(dates only), and ``ApiTokenModel`` of ``GET /users/{account_id}/manage/api-tokens``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from offboard.adapters.answers import OrAbsent
from offboard.adapters.atlassian_org.wire import Links, UtcDatetime, Wire


class ProductModel(Wire):
    key: str
    name: Annotated[str, OrAbsent] = ""
    last_active: UtcDatetime | None = None


class OrgUser(Wire):
    """``User``: ``account_id`` and ``account_status`` are required by the spec and read
    here (a status left out is never guessed to be ``active``, a billable seat)."""

    account_id: str
    account_status: str
    email: str | None = None
    access_billable: bool | None = None
    last_active: UtcDatetime | None = None
    product_access: Annotated[list[ProductModel], OrAbsent] = Field(default_factory=list)


class PageMeta(Wire):
    total: int | None = None


class OrgUserPage(Wire):
    data: list[OrgUser] = Field(default_factory=list)
    meta: Annotated[PageMeta, OrAbsent] = PageMeta()
    """``meta.total``: how many users the whole listing holds (a progress bar's end)."""
    links: Annotated[Links, OrAbsent] = Links()


class ProductLastActive(Wire):
    key: str
    last_active: date | None = None


class ProductAccessModel(Wire):
    product_access: Annotated[list[ProductLastActive], OrAbsent] = Field(default_factory=list)
    added_to_org: date | None = None


class ActivityPage(Wire):
    data: Annotated[ProductAccessModel, OrAbsent] = ProductAccessModel()
    links: Annotated[Links, OrAbsent] = Links()


class ApiTokenModel(Wire):
    id: str
    label: Annotated[str, OrAbsent] = ""
    created_at: UtcDatetime | None = Field(default=None, alias="createdAt")
    last_access: UtcDatetime | None = Field(default=None, alias="lastAccess")
