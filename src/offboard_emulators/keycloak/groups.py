"""A realm's group tree, with the lookups and searches of Keycloak 26.7.3 (checked against a
real server in tests/contract/test_groups.py): paths are case-sensitive, siblings have unique
names, listings go by name, and `search` is a case-insensitive substring of a group's name."""

from __future__ import annotations

from collections.abc import Iterator

from offboard_emulators.keycloak.errors import KeycloakError, not_found
from offboard_emulators.keycloak.model import Group


class GroupTree:
    """Every group of one realm, by id; not locked (the realm's lock covers it)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Group] = {}

    def __contains__(self, group_id: object) -> bool:
        return group_id in self._by_id

    def __getitem__(self, group_id: str) -> Group:
        return self._by_id[group_id]

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, group_id: str) -> Group | None:
        """The group with this id, or None."""
        return self._by_id.get(group_id)

    def values(self) -> Iterator[Group]:
        """Every group, in no particular order."""
        return iter(list(self._by_id.values()))

    def add(self, group: Group) -> Group:
        """Store a group under its parent (409 on a name its siblings already use)."""
        parent = None
        if group.parent_id is not None:
            parent = self._by_id.get(group.parent_id)
            if parent is None:
                raise not_found("Could not find group by id")
        if any(sibling.name == group.name for sibling in self._siblings(group.parent_id)):
            where = "Sibling" if parent else "Top level"
            message = f"{where} group named '{group.name}' already exists."
            raise KeycloakError(409, {"errorMessage": message})
        group.path = f"{parent.path if parent else ''}/{group.name}"
        self._by_id[group.id] = group
        return group

    def by_path(self, path: str) -> Group | None:
        """The group at `/a/b` (a leading or trailing slash is optional; case-sensitive)."""
        wanted = "/" + path.strip("/")
        return next((g for g in self._by_id.values() if g.path == wanted), None)

    def children(self, group_id: str | None) -> list[Group]:
        """The direct subgroups (top-level groups for None), by name."""
        return sorted(self._siblings(group_id), key=lambda group: group.name)

    def sub_count(self, group_id: str) -> int:
        """How many direct subgroups a group has."""
        return sum(1 for _ in self._siblings(group_id))

    def search(self, text: str | None, exact: bool) -> list[Group]:
        """Top-level groups, by name, whose subtree holds a group whose name matches."""
        return [top for top in self.children(None) if self.leads_to_match(top, text, exact)]

    def leads_to_match(self, group: Group, text: str | None, exact: bool) -> bool:
        """Whether the group or one of its descendants matches (no text: every group does)."""
        if text is None or _matches(group.name, text, exact):
            return True
        return any(self.leads_to_match(child, text, exact) for child in self.children(group.id))

    def _siblings(self, parent_id: str | None) -> Iterator[Group]:
        return (g for g in self._by_id.values() if g.parent_id == parent_id)


def _matches(name: str, text: str, exact: bool) -> bool:
    return name == text if exact else text.lower() in name.lower()
