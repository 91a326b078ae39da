"""The provisioning planner: a pure function from Keycloak people and a SCIM directory to a plan.

Joiners are created, profiles kept current, selected groups created, and memberships follow
Keycloak. Every conflict (no email, an email someone else holds, a group name taken) is an
entry blocked for a human: offboard never writes to a record it did not provision. Leavers
are not handled here: the deprovisioning planner deactivates them (by SCIM when linked).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from offboard.core.fingerprint import compute_fingerprint
from offboard.core.guards import ProvisioningThresholds, evaluate_provisioning_guards
from offboard.core.identities import IdentityId, normalise_email
from offboard.core.plan import (
    PLAN_SCHEMA_VERSION,
    Action,
    GuardName,
    Plan,
    Rule,
)
from offboard.core.policy import ActionKind
from offboard.core.provisioning_groups import (
    Planning,
    plan_groups,
    user_target,
)
from offboard.core.provisioning_model import (
    PROFILE_ATTRIBUTES,
    Directory,
    People,
    Person,
    ScimUserRecord,
)


def wanted_profile(person: Person) -> dict[str, str]:
    """What the SCIM record of ``person`` should say (userName is the email, as IdPs send)."""
    email = person.email or ""
    return {
        "userName": email,
        "email": email,
        "givenName": person.first_name,
        "familyName": person.last_name,
        "displayName": person.display_name,
        **dict(person.extra),
    }


def _current_profile(user: ScimUserRecord) -> dict[str, str]:
    return {
        "userName": user.user_name,
        "email": user.email or "",
        "givenName": user.given_name,
        "familyName": user.family_name,
        "displayName": user.display_name,
        **dict(user.extra),
    }


def plan_provisioning(
    people: People,
    directory: Directory,
    *,
    thresholds: ProvisioningThresholds,
    overrides: frozenset[GuardName] = frozenset(),
) -> Plan:
    """The SCIM writes that make the directory follow Keycloak; deterministic."""
    run = Planning(people, directory, [], [])
    ours = _users_by_external_id(directory.users)
    provisioned = _plan_users(run, ours)
    plan_groups(run, ours, provisioned)
    guards = evaluate_provisioning_guards(
        run.actions, people.complete, people.problems, directory, thresholds, overrides
    )
    actions, entries = tuple(run.actions), tuple(run.entries)
    return Plan(
        created_at=people.taken_at,
        actions=actions,
        entries=entries,
        guards=guards,
        fingerprint=compute_fingerprint(actions, entries, guards, (), PLAN_SCHEMA_VERSION),
        facts={
            "people": len(people.people),
            "selected_groups": len(people.groups),
            "scim_users": len(directory.users),
            "scim_groups": len(directory.groups),
        },
    )


def _users_by_external_id(users: Iterable[ScimUserRecord]) -> dict[str, ScimUserRecord]:
    return {u.external_id: u for u in users if u.external_id}


def _plan_users(run: Planning, ours: dict[str, ScimUserRecord]) -> set[IdentityId]:
    """Creates and updates; returns who has (or will have) a SCIM user offboard provisioned."""
    held_by: dict[str | None, ScimUserRecord] = {}
    for user in run.directory.users:
        for email in (user.email, user.user_name):
            if normalise_email(email):
                held_by.setdefault(normalise_email(email), user)
    sharing = _shared_emails(run.people.people)
    provisioned: set[IdentityId] = set()
    for person in sorted(run.people.people, key=lambda p: p.id):
        existing = ours.get(person.id)
        if existing is not None:
            provisioned.add(person.id)
            if person.enabled and person.normalised_email:
                refused = _email_change_refused(run, person, existing, held_by, sharing)
                _maybe_update(run, person, existing, keep_email=refused)
            continue
        if not person.enabled:
            continue  # not a joiner; a leaver's SCIM user is deprovisioning's business
        if _blocked_joiner(run, person, held_by, sharing):
            continue
        provisioned.add(person.id)
        run.actions.append(
            Action(
                ActionKind.SCIM_CREATE_USER,
                person.id,
                user_target(person.id),
                person.email,
                *_create_rule(run, person),
                tuple(wanted_profile(person).items()),
            )
        )
    return provisioned


def _create_rule(run: Planning, person: Person) -> tuple[Rule, str]:
    if (person.id, person.normalised_email) in run.directory.vouched:
        return Rule.EXISTING_ACCOUNT, (
            f"{person.username} is in the Keycloak scope and has no SCIM user; offboard links "
            f"them to the Atlassian account of {person.normalised_email}, which has no SCIM "
            "record: create it, and Atlassian links it to that account (which then follows "
            "Keycloak)"
        )
    return (
        Rule.JOINER,
        f"{person.username} is in the Keycloak scope and has no SCIM user: create it",
    )


def _shared_emails(people: Sequence[Person]) -> set[str]:
    seen: set[str] = set()
    shared: set[str] = set()
    for person in people:
        email = person.normalised_email
        if email is not None:
            (shared if email in seen else seen).add(email)
    return shared


def _blocked_joiner(
    run: Planning, person: Person, held_by: dict[str | None, ScimUserRecord], sharing: set[str]
) -> bool:
    email = person.normalised_email
    if email is None:
        reason = f"{person.username} has no email in Keycloak: cannot provision"
        run.block(Rule.NO_EMAIL, reason, person)
        return True
    if email in sharing:
        reason = f"{email} belongs to several Keycloak users: a human must decide who it is"
        run.block(Rule.EMAIL_SHARED, reason, person)
        return True
    domains = run.directory.verified_domains
    if domains is not None and email.rpartition("@")[2] not in domains:
        reason = (
            f"{email} is not on a domain verified in Atlassian ({', '.join(sorted(domains))}): "
            "SCIM creates users only there; verify the domain in Atlassian, or leave them out"
        )
        run.block(Rule.DOMAIN_UNVERIFIED, reason, person)
        return True
    holder = held_by.get(email)
    if holder is not None:
        reason = (
            f"SCIM user {holder.scim_id} already holds {email} and was not provisioned by "
            f"offboard (externalId {holder.external_id!r}): not overwritten"
        )
        run.block(Rule.EMAIL_TAKEN, reason, person, holder.scim_id)
        return True
    if (person.id, email) in run.directory.vouched:
        return False  # their own account, by offboard's link: the create brings it under SCIM
    # Same email: Atlassian would link the new SCIM user to that account (take it over).
    # Another email: it would make a second account for a person who has one.
    if email in run.directory.unlinked_emails:
        reason = (
            f"an Atlassian account not provisioned by SCIM already uses {email}: creating the "
            "SCIM user would take it over; link or rename it first"
        )
        run.block(Rule.EMAIL_TAKEN, reason, person)
        return True
    if person.id in run.directory.linked_elsewhere:
        reason = (
            f"{person.username} is already linked to an Atlassian account not provisioned by "
            "SCIM (see offboard's links): a SCIM user for their new email would make them a "
            "second account"
        )
        run.block(Rule.EMAIL_TAKEN, reason, person)
        return True
    return False


def _email_change_refused(
    run: Planning,
    person: Person,
    user: ScimUserRecord,
    held_by: dict[str | None, ScimUserRecord],
    sharing: set[str],
) -> bool:
    """Block a provisioned person's new email when someone else holds it.

    Atlassian keeps ``userName`` unique and an email to one account: the PATCH would fail
    (409 ``uniqueness``) or, worse, point two people at one address. The rest of the
    profile is still kept current; the email waits for a human."""
    email = person.normalised_email
    mine = {normalise_email(user.user_name), normalise_email(user.email)}
    if email is None or mine == {email}:
        return False
    holder = held_by.get(email)
    if email in sharing:
        reason = (
            f"{person.username}'s new email {email} belongs to several Keycloak users: the "
            f"SCIM user {user.scim_id} keeps its email until a human decides who it is"
        )
        run.block(Rule.EMAIL_SHARED, reason, person, user.scim_id)
    elif holder is not None and holder.scim_id != user.scim_id:
        reason = (
            f"{person.username}'s new email {email} is held by SCIM user {holder.scim_id} "
            f"(externalId {holder.external_id!r}): SCIM user {user.scim_id} keeps its email "
            "(Atlassian keeps userName unique); free the address or fix it in Keycloak"
        )
        run.block(Rule.EMAIL_TAKEN, reason, person, user.scim_id)
    elif email in run.directory.unlinked_emails:
        reason = (
            f"{person.username}'s new email {email} belongs to an Atlassian account with no "
            f"record in this directory: SCIM user {user.scim_id} keeps its email; link or "
            "rename that account in Atlassian first"
        )
        run.block(Rule.EMAIL_TAKEN, reason, person, user.scim_id)
    else:
        return False
    return True


def _maybe_update(
    run: Planning, person: Person, user: ScimUserRecord, *, keep_email: bool = False
) -> None:
    wanted, current = wanted_profile(person), _current_profile(user)
    if keep_email:
        wanted = {k: v for k, v in wanted.items() if k not in ("userName", "email")}
    changed = tuple((k, v) for k, v in wanted.items() if v != current.get(k, ""))
    if not changed:
        return
    names = ", ".join(k for k, _ in changed)
    run.actions.append(
        Action(
            ActionKind.SCIM_UPDATE_USER,
            person.id,
            user_target(person.id),
            person.email,
            Rule.PROFILE_CHANGED,
            f"{person.username} changed in Keycloak ({names}): update SCIM user {user.scim_id}",
            (("scim_id", user.scim_id), *changed),
        )
    )


def wanted_profile_of(action: Action) -> dict[str, str]:
    """The profile fields a create or update action sets."""
    fields = {"userName", "email", "givenName", "familyName", "displayName", *PROFILE_ATTRIBUTES}
    return {k: v for k, v in action.attributes if k in fields}


def members_of(action: Action) -> tuple[str, ...]:
    """The Keycloak ids a membership action names."""
    return tuple(v for k, v in action.attributes if k == "member")


def attribute(action: Action, name: str) -> str | None:
    """The first value named ``name`` in a provisioning action's attributes."""
    return next((v for k, v in action.attributes if k == name), None)
