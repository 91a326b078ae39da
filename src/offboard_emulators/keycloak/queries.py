"""Query-parameter rules of the Keycloak Admin API, without HTTP: paging, booleans, dates,
the user `search`/field/`q` filters and the admin-event filters (as 26.7.3 applies them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from offboard_emulators.keycloak.errors import bad_request, jaxrs_not_found, server_error
from offboard_emulators.keycloak.model import AdminEvent, User, UserEvent

DEFAULT_MAX = 100
DAY_MS = 86_400_000
OPERATION_TYPES = frozenset({"CREATE", "UPDATE", "DELETE", "ACTION"})


def parse_bool(value: str | None) -> bool | None:
    """Java's `Boolean.valueOf`: "true" in any case is true, anything else false."""
    return None if value is None else value.lower() == "true"


def parse_int(value: str | None) -> int | None:
    """An integer query parameter; Keycloak answers 404 when one does not parse."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as error:
        raise jaxrs_not_found() from error


def page(
    items: Sequence[object], first: int | None, max_: int | None, default: int | None
) -> range:
    """The index range of one page; a negative `max` means no limit (as the server does)."""
    start = max(first or 0, 0)
    size = default if max_ is None else max_
    stop = len(items) if size is None or size < 0 else min(len(items), start + size)
    return range(start, max(start, stop))


def parse_date(name: str, value: str | None, end_of_day: bool) -> int | None:
    """`yyyy-MM-dd` (start or end of that UTC day) or epoch millis; anything else is 400."""
    if value is None or value == "":
        return None
    if value.isdigit():
        return int(value)
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as error:
        message = f"Invalid value for '{name}', expected format is yyyy-MM-dd or an Epoch timestamp"
        raise bad_request(message) from error
    start = int(day.timestamp() * 1000)
    return start + DAY_MS - 1 if end_of_day else start


def newest_first(direction: str | None) -> bool:
    """Events come newest first unless `direction=asc`; other values are refused."""
    if direction is None or direction == "":
        return True
    if direction not in ("asc", "desc"):
        raise bad_request("Invalid value for sortDirection, expected value is asc or desc")
    return direction == "desc"


def like(pattern: str) -> re.Pattern[str]:
    """Keycloak's `resourcePath` match: SQL LIKE where `*` stands for any text."""
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


@dataclass(frozen=True)
class UserFilter:
    """The filters of `GET users` and `users/count`."""

    search: str | None = None
    username: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email_verified: bool | None = None
    enabled: bool | None = None
    exact: bool | None = None
    q: str | None = None
    created_after: int | None = None
    created_before: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> UserFilter:
        """Read the filters from query parameters."""
        return cls(
            created_after=parse_date("createdAfter", params.get("createdAfter"), False),
            created_before=parse_date("createdBefore", params.get("createdBefore"), True),
            search=params.get("search"),
            username=params.get("username"),
            email=params.get("email"),
            first_name=params.get("firstName"),
            last_name=params.get("lastName"),
            email_verified=parse_bool(params.get("emailVerified")),
            enabled=parse_bool(params.get("enabled")),
            exact=parse_bool(params.get("exact")),
            q=params.get("q"),
        )

    def field_filters(self) -> bool:
        """Whether a per-field filter is set (these listings include service accounts)."""
        fields = (self.username, self.email, self.first_name, self.last_name, self.q)
        return any(value is not None for value in fields) or self.email_verified is not None

    def includes_service_accounts(self, counting: bool) -> bool:
        """Listing: any filter but `search` shows service accounts; counting: field filters."""
        if self.search is not None:
            return False
        if counting:
            return self.field_filters()
        return self.field_filters() or self.enabled is not None or self.exact is not None

    def matcher(self, counting: bool) -> Callable[[User], bool]:
        """A predicate for one user."""
        checks: list[Callable[[User], bool]] = []
        if not self.includes_service_accounts(counting):
            checks.append(lambda user: user.service_account_client_id is None)
        if self.search is not None:
            checks.append(_search_matcher(self.search.strip()))
        for attribute, wanted in (
            ("username", self.username),
            ("email", self.email),
            ("first_name", self.first_name),
            ("last_name", self.last_name),
        ):
            if wanted is not None:
                checks.append(_field_matcher(attribute, wanted, bool(self.exact)))
        if self.enabled is not None:
            checks.append(_flag_matcher("enabled", self.enabled))
        if self.email_verified is not None:
            checks.append(_flag_matcher("email_verified", self.email_verified))
        if self.q:
            checks.append(_attribute_matcher(self.q))
        if self.created_after is not None or self.created_before is not None:
            low, high = self.created_after or 0, self.created_before or 2**63
            checks.append(lambda user: low <= user.created <= high)
        return lambda user: all(check(user) for check in checks)


def _search_matcher(search: str) -> Callable[[User], bool]:
    """Prefix match by default, `*` as a wildcard, `"quoted"` exact; case-insensitive."""
    if len(search) >= 2 and search.startswith('"') and search.endswith('"'):
        pattern = re.compile("^" + re.escape(search[1:-1].lower()) + "$")
    elif "*" in search:
        pattern = like(search.lower())
    else:
        pattern = re.compile("^" + re.escape(search.lower()) + ".*$")

    def matches(user: User) -> bool:
        values = (user.username, user.email, user.first_name, user.last_name)
        return any(value is not None and pattern.match(value.lower()) for value in values)

    return matches


def _field_matcher(attribute: str, wanted: str, exact: bool) -> Callable[[User], bool]:
    needle = wanted.lower()

    def matches(user: User) -> bool:
        value = getattr(user, attribute)
        if value is None:
            return False
        return value.lower() == needle if exact else needle in value.lower()

    return matches


def _flag_matcher(attribute: str, wanted: bool) -> Callable[[User], bool]:
    return lambda user: bool(getattr(user, attribute)) is wanted


def _attribute_matcher(query: str) -> Callable[[User], bool]:
    pairs = [part.split(":", 1) for part in query.split() if ":" in part]

    def matches(user: User) -> bool:
        return all(value in user.attributes.get(key, []) for key, value in pairs)

    return matches


@dataclass(frozen=True)
class EventFilter:
    """The filters of `admin-events` and `events`, after validation."""

    operation_types: frozenset[str]
    resource_types: frozenset[str]
    resource_path: re.Pattern[str] | None
    auth_user: str | None
    types: frozenset[str]
    user: str | None
    client: str | None
    date_from: int | None
    date_to: int | None

    @classmethod
    def from_params(cls, params: Mapping[str, str], lists: Mapping[str, list[str]]) -> EventFilter:
        """Validate like the server: unknown operation type → 500, bad date → 400."""
        operations = frozenset(lists.get("operationTypes", []))
        if not operations <= OPERATION_TYPES:
            raise server_error()
        path = params.get("resourcePath")
        return cls(
            operation_types=operations,
            resource_types=frozenset(lists.get("resourceTypes", [])),
            resource_path=like(path) if path else None,
            auth_user=params.get("authUser"),
            types=frozenset(lists.get("type", [])),
            user=params.get("user"),
            client=params.get("client"),
            date_from=parse_date("dateFrom", params.get("dateFrom"), end_of_day=False),
            date_to=parse_date("dateTo", params.get("dateTo"), end_of_day=True),
        )

    def _in_window(self, time: int) -> bool:
        after = self.date_from is None or time >= self.date_from
        return after and (self.date_to is None or time <= self.date_to)

    def admits_admin(self, event: AdminEvent) -> bool:
        """Whether an admin event passes every filter."""
        return (
            self._in_window(event.time)
            and (not self.operation_types or event.operation_type in self.operation_types)
            and (not self.resource_types or event.resource_type in self.resource_types)
            and (self.resource_path is None or bool(self.resource_path.match(event.resource_path)))
            and (self.auth_user is None or event.auth.user_id == self.auth_user)
        )

    def admits_user_event(self, event: UserEvent) -> bool:
        """Whether a user event passes every filter."""
        return (
            self._in_window(event.time)
            and (not self.types or event.type in self.types)
            and (self.user is None or event.user_id == self.user)
            and (self.client is None or event.client_id == self.client)
        )
