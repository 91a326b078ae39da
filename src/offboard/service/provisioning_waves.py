"""Provisioning re-checks of a wave: one targeted read and one plan for everyone in it.

A wave of joiners or movers (a team added to a group, a bulk import) reached provisioning
as one re-check per person, each paying its own Atlassian lookup by email, its own reads of
linked accounts, its own SCIM reads of the same groups, and a plan and a run of its own. A
wave reads the people together instead, as the leavers of a wave are read:

* Keycloak: each person by id, their groups, and the groups offboard pushed for them that
  they may have left (as for one person: ``PersonReader``);
* SCIM: each person's user by ``externalId`` and by ``userName`` (Atlassian's SCIM filters
  take one exact match each, so these stay one per person), but every group the wave
  concerns read once by name, not once per person in it;
* Atlassian: the accounts of the wave's emails, a hundred a search (``find_by_emails``),
  and the linked accounts read fresh in the same search, by id only where it lacks one.

A person whose Keycloak read failed is left out of the plan, and said so: nothing is
decided about them on a guess, and the others go on. The plan is one targeted plan under
the same guards, applied through ``apply_plan`` like every provisioning plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from offboard.adapters.keycloak.people import PersonReader
from offboard.core.accounts import Account
from offboard.core.identities import IdentityId, normalise_email
from offboard.core.links import Link
from offboard.core.plan import Plan
from offboard.core.provisioning import plan_provisioning
from offboard.core.provisioning_model import Directory, People, Person, SelectedGroup
from offboard.ports import Clock, Store
from offboard.service.provisioning import Provisioning, vouched_pairs


async def wave_plan(
    provisioning: Provisioning, identity_ids: Sequence[IdentityId], clock: Clock, store: Store
) -> tuple[Plan, tuple[str, ...]]:
    """The provisioning plan for the people of a wave, and why some were left out of it."""
    people, directory, unread = await read_wave(provisioning, identity_ids, clock, store)
    plan = plan_provisioning(people, directory, thresholds=provisioning.thresholds)
    return plan, unread


async def read_wave(
    provisioning: Provisioning, identity_ids: Sequence[IdentityId], clock: Clock, store: Store
) -> tuple[People, Directory, tuple[str, ...]]:
    """Both sides for everyone of the wave read (see the module docstring), and the
    problems of those who could not be read."""
    scim = provisioning.provisioner
    current = {i: await scim.group_names_of(i) for i in identity_ids}
    names_now = {name for names in current.values() for name in names}
    pushed_groups = (await scim.read_targeted((), names_now)).groups
    reader = PersonReader(
        provisioning.people.reader, provisioning.people.scope, provisioning.people.attributes
    )
    views: list[People] = []
    for identity_id in identity_ids:
        pushed = tuple(sorted(
            g.external_id for g in pushed_groups
            if g.external_id and g.display_name in current[identity_id]
        ))  # fmt: skip
        views.append(
            await reader.read(
                identity_id, provisioning.groups, provisioning.group_prefixes, pushed, clock.now()
            )
        )
    people, read, unread = merge_people(identity_ids, views, clock)
    emails = {p.id: p.email for p in people.people}
    names = {g.name for g in people.groups} | names_now
    directory = await scim.read_targeted([(i, emails.get(i)) for i in read], names)
    links = store.links(identity_ids=list(read))
    accounts = await _accounts(provisioning, [e for e in emails.values() if e], links)
    unlinked = _normalised(a.email for a in accounts if a.scim is None)
    without_scim: dict[str, str | None] = {
        a.id: normalise_email(a.email) for a in accounts if a.scim is None
    }
    elsewhere = [link for link in links if link.account_id in without_scim]
    theirs = _normalised(emails.values())
    return (
        people,
        dataclasses.replace(
            directory,
            unlinked_emails=frozenset(e for e in unlinked if e and e in theirs),
            linked_elsewhere=frozenset(link.identity_id for link in elsewhere),
            vouched=vouched_pairs(elsewhere, without_scim),
            verified_domains=provisioning.verified_domains,
        ),
        unread,
    )


def merge_people(
    identity_ids: Sequence[IdentityId], views: Sequence[People], clock: Clock
) -> tuple[People, list[IdentityId], tuple[str, ...]]:
    """One targeted view of the people read, who they are, and the problems of the others:
    a failed read is dropped, so that it speaks for nobody and blocks nobody else."""
    read: list[IdentityId] = []
    people: list[Person] = []
    problems: list[str] = []
    groups: dict[str, SelectedGroup] = {}
    for identity_id, view in zip(identity_ids, views, strict=True):
        if not view.complete:
            problems.extend(view.problems)
            continue
        read.append(identity_id)
        people.extend(view.people)
        groups.update((group.id, group) for group in view.groups)
    ordered = tuple(sorted(groups.values(), key=lambda group: group.path))
    merged = People(tuple(people), ordered, clock.now(), True, targeted=True)
    return merged, read, tuple(problems)


async def _accounts(
    provisioning: Provisioning, emails: list[str], links: Sequence[Link]
) -> list[Account]:
    """The accounts of ``emails`` and every linked account, fresh: one search per hundred
    addresses, and a read by id only of a linked account the search did not return."""
    wanted = sorted(_normalised([*emails, *(link.email for link in links)]))
    directory = provisioning.directory
    found = {a.id: a for a in (await directory.find_by_emails(wanted) if wanted else ())}
    for link in links:
        if link.account_id not in found:
            fresh = await directory.read_account(link.account_id)
            if fresh is not None:
                found[fresh.id] = fresh
    return list(found.values())


def _normalised(emails: Iterable[str | None]) -> set[str]:
    return {clean for e in emails if (clean := normalise_email(e))}
