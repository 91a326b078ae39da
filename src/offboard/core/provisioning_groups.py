"""Provisioning plans for groups: create the selected groups, and make memberships follow.

Part of the provisioning planner (``core.provisioning``); pure. A group offboard did not
provision (its ``externalId`` is not the Keycloak group id) is never written to.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Entry, EntryStatus, Rule
from offboard.core.policy import ActionKind
from offboard.core.provisioning_model import (
    RESERVED_GROUP_NAMES,
    Directory,
    People,
    Person,
    ScimGroupRecord,
    ScimUserRecord,
    SelectedGroup,
)

MEMBERS_PER_PATCH = 100
"""Members per group PATCH: Atlassian publishes no bound, so a page's worth per request."""


def user_target(identity_id: str) -> AccountId:
    return AccountId(f"scim-user:{identity_id}")


def group_target(name: str) -> AccountId:
    """All writes to one group share this target, so the executor runs them in plan order."""
    return AccountId(f"scim-group:{name.lower()}")


@dataclass
class Planning:
    people: People
    directory: Directory
    actions: list[Action]
    entries: list[Entry]

    def block(
        self, rule: Rule, reason: str, person: Person | None = None, target: str = ""
    ) -> None:
        self.entries.append(
            Entry(
                EntryStatus.BLOCKED,
                rule,
                reason,
                identity_id=person.id if person else None,
                account_id=AccountId(target) if target else None,
                email=person.email if person else None,
            )
        )


def plan_groups(
    run: Planning, ours: dict[str, ScimUserRecord], provisioned: set[IdentityId]
) -> None:
    by_name: dict[str, list[ScimGroupRecord]] = {}
    by_marker: dict[str, ScimGroupRecord] = {}
    for found in run.directory.groups:
        by_name.setdefault(found.display_name.lower(), []).append(found)
        if found.external_id:
            by_marker.setdefault(found.external_id, found)
    index = _MemberIndex.of(run.people.people, ours, provisioned)
    name_count: dict[str, int] = {}
    for group in run.people.groups:
        name_count[group.name.lower()] = name_count.get(group.name.lower(), 0) + 1
    for group in sorted(run.people.groups, key=lambda g: g.path):
        records = by_name.get(group.name.lower(), [])
        record = next((r for r in records if r.external_id == group.id), None)
        others = [r for r in records if r.external_id != group.id]
        renamed = by_marker.get(group.id) if record is None else None
        if renamed is not None:
            _block_rename(run, group, renamed)
            _plan_members(run, group, renamed, index)  # the group that grants the access
            continue
        if record is None and _blocked_group(run, group, others, name_count):
            continue
        if record is None:
            run.actions.append(
                Action(
                    ActionKind.SCIM_CREATE_GROUP,
                    IdentityId(group.marker),
                    group_target(group.name),
                    None,
                    Rule.GROUP_SELECTED,
                    f"Keycloak group {group.path} is selected and has no SCIM group: create it",
                    (("displayName", group.name), ("externalId", group.id)),
                )
            )
        _plan_members(run, group, record, index)


def _block_rename(run: Planning, group: SelectedGroup, record: ScimGroupRecord) -> None:
    reason = (
        f"Keycloak group {group.path} is now named {group.name}, but its SCIM group "
        f"{record.scim_id} is {record.display_name}: Atlassian cannot rename a SCIM group. "
        f"{record.display_name} keeps following Keycloak's members; to use the new name, "
        "delete that SCIM group in Atlassian (its members lose what it grants until the "
        "next sync creates the new one)"
    )
    run.block(Rule.GROUP_RENAMED, reason, target=group_target(group.name))


def _blocked_group(
    run: Planning,
    group: SelectedGroup,
    records: list[ScimGroupRecord],
    name_count: dict[str, int],
) -> bool:
    target = group_target(group.name)
    if group.name.lower() in RESERVED_GROUP_NAMES:
        reason = (
            f"{group.name} (Keycloak {group.path}) is an Atlassian default group name: "
            "Atlassian accepts it by SCIM but never applies it; rename the Keycloak group"
        )
        run.block(Rule.GROUP_NAME_RESERVED, reason, target=target)
        return True
    if records or name_count[group.name.lower()] > 1:
        holder = (
            f"SCIM group {records[0].scim_id} (externalId {records[0].external_id!r})"
            if records
            else "another selected Keycloak group"
        )
        reason = (
            f"the name {group.name} (Keycloak {group.path}) is already taken by {holder}: "
            "not overwritten"
        )
        run.block(Rule.GROUP_NAME_TAKEN, reason, target=target)
        return True
    return False


def _plan_members(
    run: Planning,
    group: SelectedGroup,
    record: ScimGroupRecord | None,
    index: _MemberIndex,
) -> None:
    """Add who joined, remove who left; people outside this read are never touched.

    Linear in the group's members, not in everyone read: 5,000 groups over 100,000 people.
    """
    members = record.members if record is not None else frozenset()
    name = record.display_name if record is not None else group.name
    to_add = sorted(
        person.id
        for person in index.wanted.get(group.path, ())
        if person.enabled and person.id in index.provisioned
        and index.scim_ids.get(person.id) not in members
    )  # fmt: skip
    to_remove = sorted(
        person.id
        for scim_id in members
        if (person := index.by_scim_id.get(scim_id)) is not None and group.path not in person.groups
    )
    adding, removing = ActionKind.SCIM_ADD_MEMBERS, ActionKind.SCIM_REMOVE_MEMBERS
    _member_actions(run, group, name, adding, Rule.MOVER_JOINED_GROUP, to_add)
    _member_actions(run, group, name, removing, Rule.MOVER_LEFT_GROUP, to_remove)


@dataclass
class _MemberIndex:
    """Who should be in each selected group, and who each SCIM member is (people read only)."""

    wanted: dict[str, list[Person]]
    scim_ids: dict[IdentityId, str]
    by_scim_id: dict[str, Person]
    provisioned: set[IdentityId]

    @classmethod
    def of(
        cls, people: Iterable[Person], ours: dict[str, ScimUserRecord], provisioned: set[IdentityId]
    ) -> _MemberIndex:
        wanted: dict[str, list[Person]] = {}
        scim_ids: dict[IdentityId, str] = {}
        by_scim_id: dict[str, Person] = {}
        for person in people:
            for path in person.groups:
                wanted.setdefault(path, []).append(person)
            user = ours.get(person.id)
            if user is not None:
                scim_ids[person.id] = user.scim_id
                by_scim_id[user.scim_id] = person
        return cls(wanted, scim_ids, by_scim_id, provisioned)


def _member_actions(
    run: Planning,
    group: SelectedGroup,
    name: str,
    kind: ActionKind,
    rule: Rule,
    ids: Sequence[str],
) -> None:
    """Membership changes of the SCIM group called ``name`` (the Keycloak group's, or the
    name its SCIM group kept after a rename)."""
    verb = "joined" if kind is ActionKind.SCIM_ADD_MEMBERS else "left"
    for n, chunk in enumerate(_chunks(ids, MEMBERS_PER_PATCH)):
        who = "1 person" if len(chunk) == 1 else f"{len(chunk)} people"
        reason = f"{who} {verb} Keycloak group {group.path}: follow in SCIM"
        run.actions.append(
            Action(
                kind,
                IdentityId(f"{group.marker}#{n}"),
                group_target(name),
                None,
                rule,
                reason,
                (
                    ("displayName", name),
                    ("externalId", group.id),
                    *(("member", i) for i in chunk),
                ),
            )
        )


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
