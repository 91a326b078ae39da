"""One emulated realm: its users, groups, clients and events, and the rules Keycloak 26.7.3
applies to them, without HTTP. Thread-safe (one lock); time comes from `now_ms()`, which the
control surface can move forward to expire tokens and lockouts without waiting."""

from __future__ import annotations

import bisect
import itertools
import random
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from offboard_emulators.keycloak.errors import not_found
from offboard_emulators.keycloak.groups import GroupTree
from offboard_emulators.keycloak.model import (
    AdminEvent,
    AuthDetails,
    Client,
    Group,
    User,
    UserEvent,
    compact_json,
)
from offboard_emulators.keycloak.queries import EventFilter, UserFilter, newest_first, page

EventT = TypeVar("EventT", AdminEvent, UserEvent)


@dataclass(slots=True)
class RealmSettings:
    """The realm fields the emulator honours (names as in `RealmRepresentation`)."""

    name: str = "offboard-test"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    access_token_lifespan: int = 300
    brute_force_protected: bool = True
    permanent_lockout: bool = False
    failure_factor: int = 30
    wait_increment_seconds: int = 60
    max_failure_wait_seconds: int = 900
    minimum_quick_login_wait_seconds: int = 60
    quick_login_check_milli_seconds: int = 1000
    max_delta_time_seconds: int = 43200
    events_enabled: bool = False
    events_expiration: int | None = None
    events_listeners: list[str] = field(default_factory=lambda: ["jboss-logging"])
    enabled_event_types: list[str] = field(default_factory=list)
    admin_events_enabled: bool = False
    admin_events_details_enabled: bool = False
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class KeycloakFaults:
    """Keycloak-specific misbehaviour on demand (5xx and latency live in the common faults).

    `spurious_disabled_rate`: share of reads that show an enabled user as `enabled:false`
    (Keycloak issue 40689). `page_latency_ms`: added to user and event listings only.
    `delete_during_paging`: how many times a user listing deletes the first user of the page
    it just served, so the next page skips one user. `representation_max_length`: admin-event
    representations are cut to this many characters (`--spi-events-store--jpa--max-field-length`).
    `unstable_ties`: events of one millisecond come in a new order at each query, as a real
    store may return them (`JpaAdminEventQuery` orders by `time` alone, no second key), so
    such a group cut by a page boundary can have one event on both pages and another on none.
    """

    spurious_disabled_rate: float = 0.0
    page_latency_ms: int = 0
    delete_during_paging: int = 0
    representation_max_length: int | None = None
    unstable_ties: bool = False
    seed: int | None = None


class Realm:
    """The realm's data and rules; every public method takes the lock."""

    def __init__(self, settings: RealmSettings | None = None) -> None:
        self.settings = settings or RealmSettings()
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self._usernames: list[str] = []  # sorted: Keycloak lists users by username
        self._ids_by_username: dict[str, str] = {}
        self.groups = GroupTree()
        self.clients: dict[str, Client] = {}
        self.admin_events: list[AdminEvent] = []  # in time order
        self.user_events: list[UserEvent] = []
        self.faults = KeycloakFaults()
        self._random = random.Random()
        self.clock_offset_ms = 0
        self.lockout_reports_disabled = False  # 26.3-era behaviour; 26.7.3 keeps enabled:true
        self.events_before_26_2 = False
        """26.0/26.1 event listings: dates only as yyyy-MM-dd, `direction` ignored."""
        self._listing: list[User] | None = None
        self.add_client(
            Client(str(uuid.uuid4()), "admin-cli", None, public=True, direct_grants=True)
        )

    # -- time and faults --------------------------------------------------------------------

    def now_ms(self) -> int:
        """Epoch milliseconds, plus however far the control surface moved the clock."""
        return int(time.time() * 1000) + self.clock_offset_ms

    def configure_faults(self, faults: KeycloakFaults) -> None:
        """Replace the Keycloak-specific faults."""
        with self.lock:
            self.faults = faults
            self._random = random.Random(faults.seed)

    def shown_enabled(self, user: User, locked: bool) -> bool:
        """`enabled` as a read reports it (lockout and issue 40689 may turn it false)."""
        if not user.enabled:
            return False
        if locked and self.lockout_reports_disabled:
            return False
        rate = self.faults.spurious_disabled_rate
        return not (rate and self._random.random() < rate)

    # -- users ------------------------------------------------------------------------------

    def add_user(self, user: User) -> User:
        """Store a new user; the username must be free (Keycloak lower-cases usernames)."""
        with self.lock:
            user.username = user.username.lower()
            if user.username in self._ids_by_username:
                raise ValueError(f"username {user.username!r} exists")
            self.users[user.id] = user
            self._listing = None
            bisect.insort(self._usernames, user.username)
            self._ids_by_username[user.username] = user.id
            return user

    def add_users_sorted(self, users: Iterable[User]) -> None:
        """Bulk insert (the fast builder's path): one sort instead of one insort per user."""
        with self.lock:
            for user in users:
                user.username = user.username.lower()
                self.users[user.id] = user
                self._ids_by_username[user.username] = user.id
            self._usernames = sorted(self._ids_by_username)
            self._listing = None

    def user(self, user_id: str) -> User:
        """The user with this id, or the 404 Keycloak answers."""
        with self.lock:
            found = self.users.get(user_id)
            if found is None:
                raise not_found()
            return found

    def user_by_username(self, username: str) -> User | None:
        """Exact (case-insensitive) username lookup."""
        with self.lock:
            user_id = self._ids_by_username.get(username.lower())
            return self.users.get(user_id) if user_id else None

    def remove_user(self, user_id: str) -> User:
        """Delete a user and its memberships."""
        with self.lock:
            user = self.user(user_id)
            del self.users[user_id]
            self._listing = None
            del self._ids_by_username[user.username]
            index = bisect.bisect_left(self._usernames, user.username)
            del self._usernames[index]
            return user

    def list_users(self, where: UserFilter, first: int | None, max_: int | None) -> list[User]:
        """One page of `GET users`, ordered by username."""
        with self.lock:
            if where.search and where.search.startswith("id:"):
                found = self.users.get(where.search[3:].strip())
                return [found] if found else []
            if where == UserFilter():
                matching = self._unfiltered_listing()
            else:
                admits = where.matcher(counting=False)
                matching = [user for user in self._ordered() if admits(user)]
            return [matching[i] for i in page(matching, first, max_, 100)]

    def _ordered(self) -> list[User]:
        return [self.users[self._ids_by_username[name]] for name in self._usernames]

    def _unfiltered_listing(self) -> list[User]:
        """Users without service accounts, by username; cached until the next change."""
        if self._listing is None:
            self._listing = [u for u in self._ordered() if u.service_account_client_id is None]
        return self._listing

    def count_users(self, where: UserFilter) -> int:
        """`GET users/count`."""
        with self.lock:
            admits = where.matcher(counting=True)
            return sum(1 for user in self.users.values() if admits(user))

    def members(self, group_id: str, first: int | None, max_: int | None) -> list[User]:
        """One page of a group's members, ordered by username."""
        with self.lock:
            if group_id not in self.groups:
                raise not_found("Could not find group by id")
            matching = [user for user in self._ordered() if group_id in user.groups]
            return [matching[i] for i in page(matching, first, max_, 100)]

    def add_group(self, group: Group) -> Group:
        """Store a group (top level, or under `group.parent_id`); sets its path."""
        with self.lock:
            return self.groups.add(group)

    def group_by_path(self, path: str) -> Group | None:
        """The group at this path (`/staff/eng`), or None."""
        with self.lock:
            return self.groups.by_path(path)

    def set_membership(self, user_id: str, group_id: str, member: bool) -> Group:
        """Make a user a direct member of a group, or not (idempotent, as the server is)."""
        with self.lock:
            user = self.user(user_id)
            group = self.groups.get(group_id)
            if group is None:
                raise not_found("Group not found")
            if member:
                user.groups.add(group.id)
            else:
                user.groups.discard(group.id)
            return group

    def add_client(self, client: Client) -> Client:
        """Register a client (by `clientId`)."""
        with self.lock:
            self.clients[client.client_id] = client
            return client

    # -- events -----------------------------------------------------------------------------

    def record_admin_event(
        self,
        auth: AuthDetails,
        operation: str,
        resource_path: str,
        representation: Any = None,
        resource_type: str = "USER",
    ) -> None:
        """Store an admin event when the realm records them (details only when enabled)."""
        with self.lock:
            if not self.settings.admin_events_enabled:
                return
            text = None
            if representation is not None and self.settings.admin_events_details_enabled:
                text = compact_json(representation)
                limit = self.faults.representation_max_length
                text = text[:limit] if limit is not None else text
            event = AdminEvent(
                str(uuid.uuid4()),
                self.now_ms(),
                self.settings.id,
                auth,
                operation,
                resource_type,
                resource_path,
                text,
            )
            self._append_in_time_order(self.admin_events, event)

    def record_user_event(self, event_type: str, **fields: Any) -> None:
        """Store a user event when events are on and the type is enabled."""
        with self.lock:
            enabled = self.settings.enabled_event_types
            if not self.settings.events_enabled or (enabled and event_type not in enabled):
                return
            event = UserEvent(
                str(uuid.uuid4()), self.now_ms(), event_type, self.settings.id, **fields
            )
            self._append_in_time_order(self.user_events, event)

    @staticmethod
    def _append_in_time_order(events: list[Any], event: Any) -> None:
        if events and events[-1].time > event.time:
            bisect.insort(events, event, key=lambda e: e.time)
        else:
            events.append(event)

    def query_admin_events(
        self, where: EventFilter, first: int | None, max_: int | None, direction: str | None
    ) -> list[AdminEvent]:
        """One page of admin events: newest first unless `direction=asc`."""
        descending = newest_first(direction)
        with self.lock:
            ordered = reversed(self.admin_events) if descending else iter(self.admin_events)
            matching = self._tie_order([event for event in ordered if where.admits_admin(event)])
        return [matching[i] for i in page(matching, first, max_, 100)]

    def query_user_events(
        self, where: EventFilter, first: int | None, max_: int | None, direction: str | None
    ) -> list[UserEvent]:
        """One page of user events: newest first unless `direction=asc`."""
        descending = newest_first(direction)
        with self.lock:
            ordered = reversed(self.user_events) if descending else iter(self.user_events)
            matching = self._tie_order(
                [event for event in ordered if where.admits_user_event(event)]
            )
        return [matching[i] for i in page(matching, first, max_, 100)]

    def _tie_order(self, events: list[EventT]) -> list[EventT]:
        """With ``unstable_ties``, each run of one millisecond shuffled for this query."""
        if not self.faults.unstable_ties:
            return events
        shuffled: list[EventT] = []
        for _, run in itertools.groupby(events, key=lambda event: event.time):
            tied = list(run)
            self._random.shuffle(tied)
            shuffled.extend(tied)
        return shuffled
