"""The provisioning days of `offboard demo`: a joiner (day 3) and a mover (day 4).

Keycloak gets a /teams subtree (pushed to Atlassian's SCIM directory as groups) and a new
member of /staff; offboard plans and applies the SCIM writes. Then the joiner changes teams
and the re-check an admin event would trigger moves their SCIM membership. Like `demo`,
this module may seed the emulators through their builder APIs.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import TYPE_CHECKING

from offboard.core.identities import IdentityId
from offboard.core.plan import EntryStatus, Plan, Rule
from offboard.core.provisioning import attribute, members_of

if TYPE_CHECKING:
    from rich.console import Console

    from offboard.cli.flows import Wired
    from offboard.service.provisioning import Provisioning
    from offboard.settings import Settings
    from offboard_emulators.keycloak.emulator import EmulatorState


TEAMS = "/teams"
TABLE_AT_MOST = 20
"""Outcomes of a SCIM apply shown as a table; more are counted (day 3 brings everyone's
existing account under SCIM at once)."""
JOINER = "nora.new"


def add_teams_and_joiner(keycloak: EmulatorState, domain: str, staff: str) -> str:
    """/teams/jira-devs and /teams/design, and a new person in /staff and jira-devs."""
    from offboard_emulators.keycloak.model import Group, User

    realm = keycloak.realm
    teams = realm.add_group(Group(str(uuid.uuid4()), TEAMS.strip("/")))
    for name in ("jira-devs", "design"):
        realm.add_group(Group(str(uuid.uuid4()), name, parent_id=teams.id))
    nora = realm.add_user(
        User(str(uuid.uuid4()), JOINER, realm.now_ms(), email=f"{JOINER}@{domain}",
             first_name="Nora", last_name="New")
    )  # fmt: skip
    for path in (staff, f"{TEAMS}/jira-devs"):
        group = realm.group_by_path(path)
        assert group is not None
        realm.set_membership(nora.id, group.id, member=True)
    realm._listing = None  # the emulator caches its sorted listing
    return nora.id


def move_joiner(keycloak: EmulatorState, user_id: str) -> None:
    realm = keycloak.realm
    for path, member in ((f"{TEAMS}/jira-devs", False), (f"{TEAMS}/design", True)):
        group = realm.group_by_path(path)
        assert group is not None
        realm.set_membership(user_id, group.id, member=member)


def describe(plan: Plan) -> list[str]:
    """Each SCIM write in words (the existing accounts brought under SCIM counted, with one
    example), then the blocked cases counted by rule."""
    lines = []
    existing = [a for a in plan.actions if a.rule is Rule.EXISTING_ACCOUNT]
    if existing:
        lines.append(f"{len(existing)} × scim_create_user, rule {Rule.EXISTING_ACCOUNT}, e.g. "
                     f"{existing[0].email}: {existing[0].reason}")  # fmt: skip
    for action in plan.actions:
        if action.rule is Rule.EXISTING_ACCOUNT:
            continue
        target = action.email or attribute(action, "displayName") or action.account_id
        members = members_of(action)
        who = f" ({len(members)} member{'s' * (len(members) != 1)})" if members else ""
        lines.append(f"{action.kind} {target}{who}: {action.reason}")
    blocked = Counter(e.rule for e in plan.entries if e.status is EntryStatus.BLOCKED)
    for rule, count in sorted(blocked.items()):
        lines.append(f"blocked, {rule}: {count} (a human decides; nothing is overwritten)")
    return lines


async def provisioning_days(
    keycloak: EmulatorState, wired: Wired, settings: Settings, console: Console, domain: str
) -> bool:
    """Days 3 and 4; True when every SCIM write was done and read back."""
    from rich.rule import Rule as Heading

    from offboard.adapters.atlassian import AtlassianDirectory
    from offboard.adapters.keycloak import KeycloakSource
    from offboard.cli.provision import provisioning_of

    source, directory = wired.source, wired.directory
    assert isinstance(source, KeycloakSource)
    assert isinstance(directory, AtlassianDirectory)
    provisioning = provisioning_of(settings, source, directory)
    staff = settings.keycloak.scope_groups[0]
    console.print(Heading("Day 3: a joiner (provisioning, off unless enabled)"))
    console.print(
        f"{JOINER} joins {staff} and {TEAMS}/jira-devs in Keycloak. With provisioning on, "
        f"offboard creates them in Atlassian's SCIM directory and pushes the {TEAMS} groups. "
        "People offboard already links to an Atlassian account with no SCIM record are "
        "brought under SCIM (Atlassian links each new SCIM user to that account); one it does "
        "not link is blocked for a human, never taken over on a guess.",
        markup=False,
    )
    joiner = add_teams_and_joiner(keycloak, domain, staff)
    done = await _plan_and_apply(provisioning, wired, console, None)
    console.print(Heading("Day 4: a mover"))
    console.print(
        f"{JOINER} moves from {TEAMS}/jira-devs to {TEAMS}/design. The admin event triggers "
        "a re-check of that one person: a few requests, whatever the directory's size.",
        markup=False,
    )
    move_joiner(keycloak, joiner)
    return await _plan_and_apply(provisioning, wired, console, IdentityId(joiner)) and done


async def _plan_and_apply(
    provisioning: Provisioning, wired: Wired, console: Console, person: IdentityId | None
) -> bool:
    from offboard.cli.render import apply_table, guard_lines

    if person is None:
        plan = await provisioning.plan(wired.clock, store=wired.store)
    else:
        plan = await provisioning.recheck_plan(person, wired.clock, store=wired.store)
    for line in describe(plan):
        console.print(f"  • {line}", markup=False)
    console.print(guard_lines(plan))
    run_id = wired.store.start_run("demo-provision", wired.clock.now())
    reports = await provisioning.apply(plan, store=wired.store, clock=wired.clock, run_id=run_id)
    for report in reports:
        if len(report.outcomes) > TABLE_AT_MOST:
            counts = ", ".join(f"{status} {n}" for status, n in sorted(report.counts.items()))
            console.print(f"  {len(report.outcomes)} SCIM writes: {counts}", markup=False)
        elif report.outcomes:
            console.print(apply_table(report))
    return all(report.all_done for report in reports)
