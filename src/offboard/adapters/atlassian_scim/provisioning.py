"""Provisioning writes to an Atlassian SCIM directory: reads, idempotent writes, read-backs.

Every write first looks for what it would create (a user by ``externalId``, a group by
``displayName``), so a write repeated after a crash changes nothing. The SCIM ids offboard
learns (from the directory read or from a create) are cached, so a first sync does not look
each member up again. Used by the executor through :class:`ProvisioningTarget`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypeVar

from offboard.adapters.atlassian_scim.client import SCIM_JSON, ScimAdapter
from offboard.adapters.atlassian_scim.provisioning_wire import (
    GroupPage,
    ProvisionedUser,
    ScimGroup,
    UserPage,
    group_body,
    members_patch,
    profile_patch,
    user_body,
)
from offboard.adapters.atlassian_scim.wire import next_start
from offboard.core.plan import Action
from offboard.core.policy import ActionKind
from offboard.core.provisioning import attribute, members_of, wanted_profile_of
from offboard.core.provisioning_model import Directory, ScimGroupRecord, ScimUserRecord
from offboard.ports import (
    ConflictError,
    NotFoundError,
    OperationResult,
    PermanentError,
)

PAGE_SIZE = 100
PageT = TypeVar("PageT", UserPage, GroupPage)


def _group_names(action: Action) -> tuple[str, str]:
    """The planned ``displayName`` and ``externalId`` of a group action."""
    name, external_id = attribute(action, "displayName"), attribute(action, "externalId")
    if name is None or external_id is None:
        raise PermanentError(f"{action.kind} names no group")
    return name, external_id


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ScimProvisioner:
    """Reads and writes users and groups of one directory, through the SCIM adapter."""

    def __init__(self, scim: ScimAdapter) -> None:
        self.scim = scim
        self.user_ids: dict[str, str] = {}
        """Keycloak user id (externalId) → SCIM user id."""
        self.group_ids: dict[str, str] = {}
        """Keycloak group id (externalId) → SCIM group id."""
        self.linked_account_ids: set[str] = set()
        """Atlassian account ids that have a record in this directory (as far as read)."""
        self.group_names: set[str] = set()
        """Lower-case names of every SCIM group seen."""
        self.created_accounts: dict[str, tuple[str, str | None]] = {}
        """Keycloak user id → (Atlassian account id, email) of each user this run created:
        the account the SCIM create linked (``atlassianAccountId``), for offboard's links."""
        self.requests = 0
        self.read_whole = False
        """True after ``read_all``: a record missing from the caches is known to be absent,
        so a first sync does not spend a lookup on each create (a 409 still settles a race)."""

    async def _json(
        self,
        method: str,
        path: str,
        what: str,
        *,
        body: object = None,
        params: dict[str, str | int] | None = None,
    ) -> object:
        url = f"{self.scim._base}{path}"
        content = json.dumps(body) if body is not None else None
        headers = {"Content-Type": SCIM_JSON} if body is not None else None
        self.requests += 1
        response = await self.scim._call(
            lambda: self.scim.client.build_request(
                method,
                url,
                params=params,
                content=content,
                headers=headers,
            ),
            what,
        )
        return response.json() if response.content else None

    # Reads ---------------------------------------------------------------------------

    async def _pages(
        self, path: str, noun: str, model: type[PageT], filter_: str | None
    ) -> list[PageT]:
        """Every page of a SCIM listing, walked by ``startIndex`` until ``totalResults``."""
        pages: list[PageT] = []
        start = 1
        while True:
            params: dict[str, str | int] = {"startIndex": start, "count": PAGE_SIZE}
            if filter_:
                params["filter"] = filter_
            what = f"list SCIM {noun} from {start}"
            answer = await self._json("GET", path, what, params=params)
            page = model.model_validate(answer)
            pages.append(page)
            following = next_start(
                start, page.start_index, len(page.resources), page.total_results, what
            )
            if following is None:
                return pages
            start = following

    async def users(self, filter_: str | None = None) -> list[ProvisionedUser]:
        pages = await self._pages("/Users", "users", UserPage, filter_)
        found: list[ProvisionedUser] = [user for page in pages for user in page.resources]
        for user in found:
            if user.external_id:
                self.user_ids[user.external_id] = user.id
            if user.account_id:
                self.linked_account_ids.add(user.account_id)
        return found

    async def groups(self, filter_: str | None = None) -> list[ScimGroup]:
        pages = await self._pages("/Groups", "groups", GroupPage, filter_)
        found: list[ScimGroup] = [group for page in pages for group in page.resources]
        for group in found:
            self.group_names.add(group.display_name.lower())
            if group.external_id:
                self.group_ids[group.external_id] = group.id
        return found

    async def read_all(self, unlinked_emails: frozenset[str]) -> Directory:
        """The whole directory: every user and every group with its members."""
        users = [u.record() for u in await self.users()]
        groups = [g.record() for g in await self.groups()]
        self.read_whole = True
        return Directory(tuple(users), tuple(groups), True, unlinked_emails)

    async def read_targeted(
        self, people: Iterable[tuple[str, str | None]], group_names: Iterable[str]
    ) -> Directory:
        """Only what concerns some people: their users (by externalId and by email) and the
        named groups, whose members are reduced to those people (from each user's ``groups``).
        The cost follows the people and their groups, not the directory's size."""
        users: dict[str, ScimUserRecord] = {}
        memberships: dict[str, set[str]] = {}
        for identity_id, email in people:
            found = await self.users(f"externalId eq {_quoted(identity_id)}")
            if email:
                found += await self.users(f"userName eq {_quoted(email)}")
            for user in found:
                users[user.id] = user.record()
                for ref in user.groups:
                    memberships.setdefault(ref.value, set()).add(user.id)
        groups: dict[str, ScimGroupRecord] = {}
        for name in sorted(set(group_names)):
            for group in await self.groups(f"displayName eq {_quoted(name)}"):
                members = frozenset(memberships.get(group.id, ()))
                groups[group.id] = ScimGroupRecord(
                    group.id, group.display_name, group.external_id, members
                )
        return Directory(tuple(users.values()), tuple(groups.values()), True)

    async def group_names_of(self, external_id: str) -> tuple[str, ...]:
        """Display names of the groups the SCIM user with this externalId is in."""
        users = await self.users(f"externalId eq {_quoted(external_id)}")
        return tuple(sorted({ref.display for u in users for ref in u.groups if ref.display}))

    async def user_id(self, external_id: str, *, fresh: bool = False) -> str | None:
        if fresh or (external_id not in self.user_ids and not self.read_whole):
            await self.users(f"externalId eq {_quoted(external_id)}")
        return self.user_ids.get(external_id)

    async def user(self, external_id: str) -> ProvisionedUser | None:
        """A fresh read of offboard's user for this Keycloak id (by SCIM id when known)."""
        scim_id = self.user_ids.get(external_id)
        if scim_id is not None:
            try:
                body = await self._json("GET", f"/Users/{scim_id}", f"read SCIM user {scim_id}")
            except NotFoundError:
                self.user_ids.pop(external_id, None)
            else:
                return ProvisionedUser.model_validate(body)
        found = await self.users(f"externalId eq {_quoted(external_id)}")
        return found[0] if found else None

    async def _group(self, action: Action) -> ScimGroup | None:
        """offboard's group for the action (matched by externalId), freshly read, or None."""
        name, external_id = _group_names(action)
        scim_id = self.group_ids.get(external_id)
        if scim_id is not None:
            try:
                body = await self._json("GET", f"/Groups/{scim_id}", f"read SCIM group {name}")
            except NotFoundError:
                self.group_ids.pop(external_id, None)
            else:
                return ScimGroup.model_validate(body)
        elif self.read_whole and name.lower() not in self.group_names:
            return None
        for group in await self.groups(f"displayName eq {_quoted(name)}"):
            if group.display_name.lower() == name.lower():
                if group.external_id != external_id:
                    raise PermanentError(
                        f"SCIM group {name} is not offboard's (externalId "
                        f"{group.external_id!r}): not written to"
                    )
                return group
        return None

    # Writes --------------------------------------------------------------------------

    async def execute(self, action: Action) -> OperationResult:
        match action.kind:
            case ActionKind.SCIM_CREATE_USER:
                return await self._create_user(action)
            case ActionKind.SCIM_UPDATE_USER:
                return await self._update_user(action)
            case ActionKind.SCIM_CREATE_GROUP:
                return await self._create_group(action)
            case ActionKind.SCIM_ADD_MEMBERS | ActionKind.SCIM_REMOVE_MEMBERS:
                return await self._members(action)
            case _:
                raise PermanentError(f"{action.kind} is not a provisioning write")

    async def _create_user(self, action: Action) -> OperationResult:
        if await self.user_id(action.identity_id) is not None:
            return OperationResult(200, False, "SCIM user already provisioned")
        body = user_body(dict(action.attributes), action.identity_id)
        try:
            answer = await self._json(
                "POST", "/Users", f"create SCIM user for {action.email}", body=body
            )
        except ConflictError:
            # Created since the directory was read (a race, or an earlier attempt whose
            # answer was lost): ours when it carries our mark, else a conflict to report.
            if await self.user_id(action.identity_id, fresh=True) is not None:
                return OperationResult(200, False, "SCIM user already provisioned")
            raise
        created = ProvisionedUser.model_validate(answer)
        self.user_ids[action.identity_id] = created.id
        if (account_id := created.account_id) is not None:
            self.created_accounts[action.identity_id] = (account_id, action.email)
        return OperationResult(201, True, f"created SCIM user {created.id}")

    async def _update_user(self, action: Action) -> OperationResult:
        scim_id = await self.user_id(action.identity_id)
        if scim_id is None:
            raise PermanentError(f"no SCIM user provisioned for {action.identity_id}")
        changes = {k: v for k, v in action.attributes if k != "scim_id"}
        await self._json(
            "PATCH", f"/Users/{scim_id}", f"update SCIM user {scim_id}", body=profile_patch(changes)
        )
        return OperationResult(200, True, f"updated {', '.join(changes)}")

    async def _create_group(self, action: Action) -> OperationResult:
        if await self._group(action) is not None:
            return OperationResult(200, False, "SCIM group already provisioned")
        name, external_id = _group_names(action)
        created = ScimGroup.model_validate(
            await self._json(
                "POST", "/Groups", f"create SCIM group {name}", body=group_body(name, external_id)
            )
        )
        self.group_ids[external_id] = created.id
        self.group_names.add(name.lower())
        return OperationResult(201, True, f"created SCIM group {created.id}")

    async def _members(self, action: Action) -> OperationResult:
        group = await self._group(action)
        if group is None:
            raise PermanentError(f"SCIM group {attribute(action, 'displayName')} not found")
        adding = action.kind is ActionKind.SCIM_ADD_MEMBERS
        current = {m.value for m in group.members}
        ids = [await self.user_id(i) for i in members_of(action)]
        # A member whose create failed is left out, not the whole batch: the read-back then
        # reports a mismatch, and the next plan adds them once they exist.
        missing = sum(1 for i in ids if i is None)
        note = f"; {missing} without a SCIM user left out" if missing and adding else ""
        send = [i for i in ids if i is not None and (i in current) is not adding]
        if not send:
            return OperationResult(200, False, "memberships already as planned" + note)
        op = "add" if adding else "remove"
        await self._json(
            "PATCH",
            f"/Groups/{group.id}",
            f"{op} {len(send)} members of SCIM group {group.display_name}",
            body=members_patch(op, send),
        )
        return OperationResult(200, True, f"{op} {len(send)} members{note}")

    async def verify(self, action: Action) -> tuple[bool, str]:
        """Read back: the user's profile, the group, or its members, as the action wanted."""
        if action.kind in (ActionKind.SCIM_CREATE_USER, ActionKind.SCIM_UPDATE_USER):
            user = await self.user(action.identity_id)
            if user is None:
                return False, "SCIM user not found"
            record = user.record()
            wanted = wanted_profile_of(action)
            seen = {"userName": record.user_name, "email": record.email or ""}
            seen |= {"givenName": record.given_name, "familyName": record.family_name}
            seen["displayName"] = record.display_name
            seen |= dict(record.extra)
            differing = [k for k, v in wanted.items() if seen.get(k, "") != v]
            return not differing, f"SCIM user {record.scim_id}" + (
                f", differs in {', '.join(differing)}" if differing else ", profile as planned"
            )
        group = await self._group(action)
        if group is None:
            return False, "SCIM group not found"
        if action.kind is ActionKind.SCIM_CREATE_GROUP:
            return True, f"SCIM group {group.id} exists"
        current = {m.value for m in group.members}
        ids = {self.user_ids.get(i) for i in members_of(action)}
        adding = action.kind is ActionKind.SCIM_ADD_MEMBERS
        holds = ids <= current if adding else not (ids & current)
        return holds, f"SCIM group {group.id} has {len(current)} members"
