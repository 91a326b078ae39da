"""The Keycloak side of provisioning: people in scope with their names, and selected groups.

Selected groups are exact paths (``/atlassian/jira-devs``) or prefixes (``/atlassian``: every
group below it, walked with ``groups/{id}/children``; the prefix group itself is a
container). Each selected group's members are paged (brief representations carry the
names), and so is the scope. A failed page or
group makes the read incomplete, which blocks the plan: an absence is never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from urllib.parse import quote

from pydantic import TypeAdapter

from offboard.adapters.keycloak.attribute_filter import filter_finds, shows_scope
from offboard.adapters.keycloak.listing import SERVICE_ACCOUNT_PREFIX
from offboard.adapters.keycloak.paging import walk_pages
from offboard.adapters.keycloak.requests import AdminReader, Query, seg
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.wire import GROUP, GroupRep, UserRep
from offboard.core.identities import IdentityId
from offboard.core.provisioning_model import People, Person, SelectedGroup
from offboard.ports import NotFoundError, OffboardError


class NamedUserRep(UserRep):
    """A brief user with the names provisioning pushes."""

    firstName: str | None = None  # noqa: N815 - wire name
    lastName: str | None = None  # noqa: N815 - wire name


NAMED_USER = TypeAdapter(NamedUserRep)
NAMED_USERS = TypeAdapter(list[NamedUserRep])
CHILDREN = TypeAdapter(list[GroupRep])


class PeopleReader:
    """Reads the provisioning view of one realm; problems are collected, never raised."""

    def __init__(
        self,
        reader: AdminReader,
        scope: KeycloakScope,
        page_size: int = 500,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        self.reader = reader
        self.scope = scope
        self.page_size = page_size
        self.attributes = dict(attributes or {})
        """SCIM profile attribute → the Keycloak user attribute it comes from."""
        self.problems: list[str] = []

    async def read(
        self, paths: tuple[str, ...], prefixes: tuple[str, ...], now: datetime
    ) -> People:
        self.problems = []
        groups = await self.selected_groups(paths, prefixes)
        people = await self._scope_people()
        for group in groups:
            for user in await self._members(f"groups/{seg(group.id)}/members", group.path):
                person = people.get(IdentityId(user.id))
                if person is not None:
                    people[person.id] = replace(person, groups=person.groups | {group.path})
        return People(
            people=tuple(sorted(people.values(), key=lambda p: p.id)),
            groups=tuple(groups),
            taken_at=now,
            complete=not self.problems,
            problems=tuple(self.problems),
        )

    async def selected_groups(
        self, paths: tuple[str, ...], prefixes: tuple[str, ...]
    ) -> list[SelectedGroup]:
        found: dict[str, SelectedGroup] = {}
        for path in (*paths, *prefixes):
            group = await self._by_path(path)
            if group is None:
                continue
            if path in prefixes:  # the subtree below it; the prefix group is a container
                for sub in await self._subtree(group):
                    found[sub.id] = sub
            else:
                found[group.id] = group
        return sorted(found.values(), key=lambda g: g.path)

    async def _by_path(self, path: str) -> SelectedGroup | None:
        try:
            rep = await self.reader.read(f"group-by-path/{quote(path.strip('/'), safe='/')}", GROUP)
        except OffboardError as error:
            self.problems.append(f"selected group {path!r} could not be read: {error}")
            return None
        return SelectedGroup(rep.id, rep.path or "/" + path.strip("/"), rep.name)

    async def _subtree(self, root: SelectedGroup) -> list[SelectedGroup]:
        found: list[SelectedGroup] = []
        pending = [root]
        while pending:
            parent = pending.pop()
            try:
                children = await self.reader.read(
                    f"groups/{seg(parent.id)}/children", CHILDREN, {"first": 0, "max": 1000}
                )
            except OffboardError as error:
                self.problems.append(f"subgroups of {parent.path} could not be read: {error}")
                continue
            for child in children:
                group = SelectedGroup(
                    child.id, child.path or f"{parent.path}/{child.name}", child.name
                )
                found.append(group)
                pending.append(group)
        return found

    async def _scope_people(self) -> dict[IdentityId, Person]:
        if self.scope.group_paths:
            users: list[NamedUserRep] = []
            for path in self.scope.group_paths:
                group = await self._by_path(path)
                if group is not None:
                    members = f"groups/{seg(group.id)}/members"
                    users += await self._members(members, path, brief=not self.attributes)
        else:
            query: Query = {"q": self.scope.query} if self.scope.query else {}
            users = await self._members("users", "the realm", query, brief=not self.attributes)
        return {
            IdentityId(u.id): person_of(u, frozenset(), self.attributes)
            for u in users
            if not u.username.startswith(SERVICE_ACCOUNT_PREFIX)
        }

    async def _members(
        self, path: str, what: str, query: Query | None = None, brief: bool = True
    ) -> list[NamedUserRep]:
        # Brief representations carry the names but not the attributes.
        async def fetch(offset: int, limit: int) -> list[NamedUserRep]:
            params: Query = {**(query or {}), "briefRepresentation": brief}
            return await self.reader.read(
                path, NAMED_USERS, {**params, "first": offset, "max": limit}
            )

        walk = await walk_pages(
            fetch,
            key=lambda user: user.id,
            page_size=self.page_size,
            concurrency=2,
            max_pages=10**6,
        )
        self.problems.extend(walk.problems(f"listing {what}", self.page_size))
        return list(walk.items)


class PersonReader:
    """One person's provisioning view, for an event re-check: a few requests, whatever the
    realm's size: the user, their groups (paths), and any group offboard pushed that they
    may have left (by id)."""

    def __init__(
        self, reader: AdminReader, scope: KeycloakScope, attributes: Mapping[str, str]
    ) -> None:
        self.reader = reader
        self.scope = scope
        self.attributes = attributes

    async def read(
        self,
        identity_id: IdentityId,
        paths: tuple[str, ...],
        prefixes: tuple[str, ...],
        pushed_group_ids: tuple[str, ...],
        now: datetime,
    ) -> People:
        """The person (absent when deleted or out of scope) and the selected groups that
        concern them: theirs, and those of ``pushed_group_ids`` still selected."""
        try:
            user = await self.reader.read(f"users/{seg(identity_id)}", NAMED_USER)
        except NotFoundError:
            return People((), (), now, True, targeted=True)
        except OffboardError as error:
            return People((), (), now, False, (f"user {identity_id}: {error}",), targeted=True)
        try:
            reps = await self.reader.read(
                f"users/{seg(identity_id)}/groups", CHILDREN, {"max": 1000}
            )
            pushed = [await self.reader.read(f"groups/{seg(g)}", GROUP) for g in pushed_group_ids]
        except OffboardError as error:
            problem = f"groups of {identity_id}: {error}"
            return People((), (), now, False, (problem,), targeted=True)
        member_of = {rep.path for rep in reps}
        selected = {
            rep.id: SelectedGroup(rep.id, rep.path, rep.name)
            for rep in (*reps, *pushed)
            if is_selected(rep.path, paths, prefixes)
        }
        people: tuple[Person, ...] = ()
        try:
            inside = await self._in_scope(user, member_of)
        except OffboardError as error:
            return People((), (), now, False, (f"scope of {identity_id}: {error}",), targeted=True)
        if inside:
            theirs = frozenset(g.path for g in selected.values() if g.path in member_of)
            people = (person_of(user, theirs, self.attributes),)
        groups = tuple(sorted(selected.values(), key=lambda g: g.path))
        return People(people, groups, now, True, targeted=True)

    async def _in_scope(self, user: NamedUserRep, member_of: set[str]) -> bool:
        if user.username.startswith(SERVICE_ACCOUNT_PREFIX):
            return False
        if self.scope.group_paths:
            return any("/" + p.strip("/") in member_of for p in self.scope.group_paths)
        if shows_scope(user.attributes, self.scope):
            return True
        # Hidden by the user profile yet stored: judged by the filter the listing uses.
        return await filter_finds(self.reader, self.scope, user.id, user.username)


def person_of(user: NamedUserRep, groups: frozenset[str], attributes: Mapping[str, str]) -> Person:
    """The provisioning view of a Keycloak user; mapped attributes it lacks are left out."""
    values = user.attributes or {}
    extra = tuple(
        sorted((scim, values[name][0]) for scim, name in attributes.items() if values.get(name))
    )
    return Person(
        IdentityId(user.id), user.username, user.email, user.firstName or "",
        user.lastName or "", user.enabled, groups, extra,
    )  # fmt: skip


def is_selected(path: str, paths: tuple[str, ...], prefixes: tuple[str, ...]) -> bool:
    """A group path named exactly, or below a selected prefix (not the prefix group itself)."""
    clean = "/" + path.strip("/")
    return clean in paths or any(clean.startswith(p.rstrip("/") + "/") for p in prefixes)
