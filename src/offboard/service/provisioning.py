"""Provisioning runs: read Keycloak and the SCIM directory, plan, and apply in two phases.

Apply goes through ``executor.applying.apply_plan`` (journal, guards, idempotence,
read-back, and the provisioning budgets over time of ``[provisioning.budget]``), twice under
the plan's one fingerprint: users and groups first, then memberships, because a member must
exist before a group can hold them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.atlassian_scim.provisioning import ScimProvisioner
from offboard.adapters.atlassian_scim.provisioning_target import ProvisioningTarget
from offboard.adapters.keycloak.people import PeopleReader, PersonReader
from offboard.core.budget import DEFAULT_PROVISIONING_BUDGETS, Budget
from offboard.core.guards import ProvisioningThresholds
from offboard.core.identities import IdentityId, normalise_email
from offboard.core.links import Link
from offboard.core.plan import GuardName, Plan
from offboard.core.policy import ActionKind
from offboard.core.provisioning import plan_provisioning
from offboard.core.provisioning_model import Directory, People
from offboard.executor.applying import apply_plan
from offboard.executor.outcomes import ApplyReport
from offboard.executor.preflight import NO_PREFLIGHT, Preflight
from offboard.ports import Clock, OffboardError, Store
from offboard.service.provisioning_links import link_joiners

FIRST_PHASE = frozenset(
    {ActionKind.SCIM_CREATE_USER, ActionKind.SCIM_UPDATE_USER, ActionKind.SCIM_CREATE_GROUP}
)


@dataclass
class Provisioning:
    """What a provisioning run needs: both readers, the SCIM writer and the selection."""

    people: PeopleReader
    provisioner: ScimProvisioner
    directory: AtlassianDirectory
    groups: tuple[str, ...]
    group_prefixes: tuple[str, ...]
    thresholds: ProvisioningThresholds
    budgets: Mapping[str, Budget] = field(default_factory=lambda: DEFAULT_PROVISIONING_BUDGETS)
    """The provisioning budgets over time by category (``[provisioning.budget]``)."""
    verified_domains: frozenset[str] | None = None
    """The org's verified domains as of the last full read (re-checks reuse them)."""

    async def read(self, clock: Clock, store: Store | None = None) -> tuple[People, Directory]:
        """Both sides in full; an unreadable side gives an incomplete view (a guard blocks).
        With ``store``, people linked to an account with no SCIM record are known too."""
        people = await self.people.read(self.groups, self.group_prefixes, clock.now())
        try:
            scim = await self.provisioner.read_all(frozenset())
        except OffboardError as error:
            scim = Directory((), (), False, problems=(f"SCIM directory unreadable: {error}",))
        unlinked, without_scim, problems = await self._unlinked_accounts()
        scim = dataclasses.replace(
            scim, unlinked_emails=unlinked, verified_domains=self.verified_domains
        )
        if problems:
            scim = dataclasses.replace(scim, complete=False, problems=(*scim.problems, *problems))
        if store is not None:
            links = [link for link in store.links() if link.account_id in without_scim]
            scim = dataclasses.replace(
                scim,
                linked_elsewhere=frozenset(link.identity_id for link in links),
                vouched=vouched_pairs(links, without_scim),
            )
        return people, scim

    async def _unlinked_accounts(
        self,
    ) -> tuple[frozenset[str], dict[str, str | None], tuple[str, ...]]:
        """Emails of the org's accounts with no record in this SCIM directory, and each such
        account's lower-case email by id.

        The org's accounts only (its SCIM links come from the directory read just made, so
        the SCIM users are not paged twice)."""
        try:
            snapshot = await self.directory.org.snapshot()
        except OffboardError as error:
            return frozenset(), {}, (f"Atlassian accounts unreadable: {error}",)
        if snapshot.complete:
            self.verified_domains = snapshot.verified_domains
        linked = self.provisioner.linked_account_ids
        without: dict[str, str | None] = {
            a.id: normalise_email(a.email) for a in snapshot.accounts if a.id not in linked
        }
        problems = snapshot.problems if not snapshot.complete else ()
        return frozenset(e for e in without.values() if e), without, problems

    async def read_person(
        self, identity_id: IdentityId, clock: Clock, store: Store | None = None
    ) -> tuple[People, Directory]:
        """One person's view for an event re-check: a handful of requests whatever the size
        of the realm or the directory (their SCIM user by externalId and email, the groups
        they are or should be in, by name). Nobody else is spoken for."""
        current_names = await self.provisioner.group_names_of(identity_id)
        before = await self.provisioner.read_targeted([(identity_id, None)], current_names)
        pushed = tuple(sorted(g.external_id for g in before.groups if g.external_id))
        reader = PersonReader(self.people.reader, self.people.scope, self.people.attributes)
        people = await reader.read(
            identity_id, self.groups, self.group_prefixes, pushed, clock.now()
        )
        email = people.people[0].email if people.people else None
        names = {g.name for g in people.groups} | set(current_names)
        scim = await self.provisioner.read_targeted([(identity_id, email)], names)
        unlinked: frozenset[str] = frozenset()
        if email:
            accounts = await self.directory.find_by_email(email)
            found = {normalise_email(a.email) for a in accounts if a.scim is None}
            unlinked = frozenset(e for e in found if e)
        links, without_scim = await self._linked_without_scim(identity_id, store)
        return people, dataclasses.replace(
            scim,
            unlinked_emails=unlinked,
            linked_elsewhere=frozenset(link.identity_id for link in links),
            vouched=vouched_pairs(links, without_scim),
            verified_domains=self.verified_domains,
        )

    async def _linked_without_scim(
        self, identity_id: IdentityId, store: Store | None
    ) -> tuple[list[Link], dict[str, str | None]]:
        """The person's links to accounts with no record in SCIM, and those accounts'
        lower-case emails by id."""
        if store is None:
            return [], {}
        found: list[Link] = []
        emails: dict[str, str | None] = {}
        for link in store.links(identity_ids=[identity_id]):
            account = await self.directory.read_account(link.account_id)
            if account is not None and account.scim is None:
                found.append(link)
                emails[account.id] = normalise_email(account.email)
        return found, emails

    async def recheck_plan(
        self,
        identity_id: IdentityId,
        clock: Clock,
        overrides: frozenset[GuardName] = frozenset(),
        store: Store | None = None,
    ) -> Plan:
        """The provisioning plan for one person, after an event named them."""
        people, scim = await self.read_person(identity_id, clock, store)
        return plan_provisioning(people, scim, thresholds=self.thresholds, overrides=overrides)

    async def plan(
        self,
        clock: Clock,
        overrides: frozenset[GuardName] = frozenset(),
        store: Store | None = None,
    ) -> Plan:
        people, scim = await self.read(clock, store)
        return plan_provisioning(people, scim, thresholds=self.thresholds, overrides=overrides)

    async def apply(
        self,
        plan: Plan,
        *,
        store: Store,
        clock: Clock,
        run_id: str,
        overrides: frozenset[GuardName] = frozenset(),
        preflight: Preflight = NO_PREFLIGHT,
    ) -> list[ApplyReport]:
        try:
            return await apply_provisioning(
                plan,
                ProvisioningTarget(self.provisioner),
                store=store,
                clock=clock,
                run_id=run_id,
                overrides=overrides,
                preflight=preflight,
                budgets=self.budgets,
            )
        finally:  # also after a failure: the users created before it are linked
            created, self.provisioner.created_accounts = self.provisioner.created_accounts, {}
            link_joiners(created, store, clock.now())


def vouched_pairs(
    links: Iterable[Link], emails: Mapping[str, str | None]
) -> frozenset[tuple[str, str]]:
    """(Keycloak id, account email) of each link to an account with no SCIM record
    (``emails``): that person's own account, which a SCIM create with that email brings under
    SCIM (``Directory.vouched``)."""
    return frozenset(
        (link.identity_id, email)
        for link in links
        if (email := emails.get(link.account_id)) is not None
    )


async def apply_provisioning(
    plan: Plan,
    target: ProvisioningTarget,
    *,
    store: Store,
    clock: Clock,
    run_id: str,
    overrides: frozenset[GuardName] = frozenset(),
    preflight: Preflight = NO_PREFLIGHT,
    budgets: Mapping[str, Budget] = DEFAULT_PROVISIONING_BUDGETS,
) -> list[ApplyReport]:
    """Users and groups, then memberships; each phase through ``apply_plan``, which checks
    ``preflight`` (the acting process's leader lease) before every write and spends
    ``budgets`` (a full window holds that kind of write; the others go on)."""
    first = tuple(a for a in plan.actions if a.kind in FIRST_PHASE)
    then = tuple(a for a in plan.actions if a.kind not in FIRST_PHASE)
    reports: list[ApplyReport] = []
    for actions in (first, then):
        if not actions and reports:
            continue
        phase = dataclasses.replace(plan, actions=actions)
        reports.append(
            await apply_plan(
                phase,
                directory=target,
                store=store,
                clock=clock,
                run_id=run_id,
                overrides=overrides,
                preflight=preflight,
                budgets=budgets,
            )
        )
    return reports
