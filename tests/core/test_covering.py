"""A covering Atlassian read (only the accounts a plan needs) decides as the whole walk does.

Over generated worlds (leavers, deletions, absences, lockouts, service accounts, scopes,
grace periods, shared and crossed links, offboard's own deactivations, SCIM links, org
admins, protected accounts, ambiguous emails, accounts missing from the directory), the plan
made from the covering read has the same actions, link updates, guards and entries as the
plan made from the whole walk, except the reports a covering read does not make (module
docstring of ``core.covering``). The covering read is built as the adapter answers it: the
asked ids that exist, and every account holding one of the asked emails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from offboard.core.covering import (
    Needs,
    accounts_needed,
    changed_identities,
    covered_links,
    needs_after_confirming,
    walk_requests,
)
from offboard.core.identities import Identity, IdentityId, Lockout, normalise_email
from offboard.core.links import Link
from offboard.core.plan import Entry, Plan, Rule
from offboard.core.planning import PlanContext, candidates_to_confirm, plan
from offboard.core.policy import Policy
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.core.verdicts import Verdict, classify, match_key
from tests.core.builders import NOW, account, aid, identity, iid, link
from tests.core.builders import source as make_source
from tests.core.builders import target as make_target
from tests.core.test_properties import World, worlds

POLICY = Policy()
NOT_MADE_BY_COVERING = {Rule.NEVER_LINKED, Rule.NOT_DEACTIVATED_BY_OFFBOARD}


def covering(world: World) -> TargetSnapshot:
    """What the adapter's searches would answer for the needs of ``world``."""
    needs = accounts_needed(world.source, world.links, world.policy)
    found = [
        a
        for a in world.target.accounts
        if a.id in needs.account_ids or a.normalised_email in needs.emails
    ]
    return dataclasses.replace(
        world.target,
        accounts=tuple(found),
        kind=SnapshotKind.COVERING,
        asked_accounts=needs.account_ids,
    )


def _plan(world: World, target: TargetSnapshot) -> Plan:
    return plan(world.source, target, world.links, world.policy, PlanContext(now=NOW))


def _reported(entries: tuple[Entry, ...]) -> set[Entry]:
    return {e for e in entries if e.rule not in NOT_MADE_BY_COVERING}


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_a_covering_read_plans_as_the_whole_walk(world: World) -> None:
    walked, covered = _plan(world, world.target), _plan(world, covering(world))
    assert covered.actions == walked.actions
    assert covered.link_updates == walked.link_updates
    assert covered.guards == walked.guards
    assert _reported(covered.entries) == _reported(walked.entries)
    assert set(covered.entries) <= set(walked.entries)


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_a_covering_read_asks_keycloak_to_confirm_the_same_people(world: World) -> None:
    target = covering(world)
    assert candidates_to_confirm(
        world.source, target, world.links, world.policy
    ) == candidates_to_confirm(world.source, world.target, world.links, world.policy)


def test_plainly_fine_people_are_not_read() -> None:
    fine, leaver = identity(1), identity(2, enabled=False, disable_confirmed=True)
    new = identity(3)
    world_links = (link(1), link(2))
    needs = accounts_needed(make_source(fine, leaver, new), world_links, POLICY)
    assert needs.account_ids == {aid(2)}
    assert needs.emails == {new.email}
    assert needs.requests == 2


def test_a_linked_account_asked_but_gone_blocks_the_leaver() -> None:
    """Asked, answered by no search and 404 by id: missing, as when the walk lacks it."""
    leaver = identity(2, enabled=False, disable_confirmed=True)
    target = dataclasses.replace(
        make_target(), kind=SnapshotKind.COVERING, asked_accounts=frozenset({aid(2)})
    )
    made = plan(make_source(leaver), target, [link(2)], POLICY, PlanContext(now=NOW))
    assert [e.rule for e in made.entries] == [Rule.LINKED_ACCOUNT_MISSING]


def test_links_whose_account_was_not_asked_are_not_decided() -> None:
    target = dataclasses.replace(
        make_target(account(1)), kind=SnapshotKind.COVERING, asked_accounts=frozenset()
    )
    assert covered_links([link(1)], target) == []
    assert covered_links([link(1)], make_target(account(1))) == [link(1)]


def test_request_counts() -> None:
    ids = frozenset(f"acc-{n}" for n in range(21))
    assert Needs(ids, frozenset({"a@x"})).requests == 3 + 1
    assert walk_requests(0) == 1
    assert walk_requests(10_000) == 100
    assert walk_requests(10_001) == 101


def test_a_shared_account_is_read_even_between_fine_people() -> None:
    """Two fine identities on one account: the walk blocks it as ambiguous, so must this."""
    one, two = identity(1), identity(2)
    shared = (link(1), link(2, account_id=aid(1)))
    needs = accounts_needed(make_source(one, two), shared, POLICY)
    assert needs.account_ids == {aid(1)}
    world = World(make_source(one, two), make_target(account(1)), shared, POLICY)
    walked, covered = _plan(world, world.target), _plan(world, covering(world))
    assert [e.rule for e in walked.entries] == [Rule.AMBIGUOUS_IDENTITIES] * 2
    assert covered.entries == walked.entries


# The covering computation, as first written (one pass per link over an owners map, the
# email key of every identity compared): the faster one must name exactly the same needs.


def _reference_needs(source: SourceSnapshot, links: Sequence[Link], policy: Policy) -> Needs:
    identities = {identity.id: identity for identity in source.identities}
    owners: dict[str, set[str]] = {}
    for one in links:
        owners.setdefault(one.account_id, set()).add(one.identity_id)

    def plainly_fine(person: Identity | None, one: Link) -> bool:
        if person is None or one.identity_id in source.deleted:
            return False
        if one.leaving_since is not None or one.deactivated_by_offboard:
            return False
        key, _ = match_key(person, policy.match_attribute)
        if key is not None and key != one.email and key != normalise_email(one.email):
            return False
        return classify(person, False, policy).verdict is Verdict.FINE

    wanted = {
        one.account_id
        for one in links
        if len(owners[one.account_id]) > 1 or not plainly_fine(identities.get(one.identity_id), one)
    }
    linked = {one.identity_id for one in links}
    keys = set()
    for person in source.identities:
        if person.id in linked or person.service_account_client_id is not None:
            continue
        key, _ = match_key(person, policy.match_attribute)
        if key is not None:
            keys.add(key)
            # And the address as Keycloak wrote it: attribute first, as ``match_key`` reads.
            for raw in (person.attribute(policy.match_attribute or ""), person.email):
                if raw is not None and raw.strip().lower() == key:
                    keys.add(raw.strip())
                    break
    return Needs(frozenset(wanted), frozenset(keys))


ATTRIBUTE = "workEmail"
ATTRIBUTE_VALUES = st.sampled_from([None, "user1@acme.test", "USER2@acme.test", "not an address"])


@st.composite
def attributed_worlds(draw: st.DrawFn) -> World:
    """Worlds where some policies match by a Keycloak attribute, and some identities hold it."""
    world = draw(worlds())
    if not draw(st.booleans()):
        return world
    people = tuple(
        dataclasses.replace(person, attributes={ATTRIBUTE: (value,)} if value else {})
        for person in world.source.identities
        for value in [draw(ATTRIBUTE_VALUES)]
    )
    source = dataclasses.replace(world.source, identities=people)
    policy = dataclasses.replace(world.policy, match_attribute=ATTRIBUTE)
    return dataclasses.replace(world, source=source, policy=policy)


@st.composite
def confirmations(draw: st.DrawFn, listed: SourceSnapshot) -> SourceSnapshot:
    """What Keycloak's confirmation could make of ``listed``: some identities re-read (the
    same, an equal copy, changed), gone (404: deleted) or dropped, the others the very same
    objects."""
    kept: list[Identity] = []
    deleted = set(listed.deleted)
    emails = [person.email for person in listed.identities]  # someone else's, after a move
    for person in listed.identities:
        fate = draw(st.integers(0, 6))
        if fate == 0:
            deleted.add(person.id)
        elif fate == 6:  # no longer shown, not confirmed deleted either
            continue
        elif fate == 1:
            kept.append(dataclasses.replace(person))
        elif fate == 2:
            kept.append(
                dataclasses.replace(
                    person,
                    enabled=draw(st.booleans()),
                    disable_confirmed=draw(st.booleans()),
                    lockout=draw(st.sampled_from(list(Lockout))),
                    email=draw(st.sampled_from([*emails, "moved@acme.test", None])),
                )
            )
        else:
            kept.append(person)
    if draw(st.booleans()):
        deleted.discard(draw(st.sampled_from([iid(1), iid(2), iid(3)])))
    if draw(st.booleans()):  # an identity the listing did not show, read back as present
        kept.append(identity(draw(st.integers(1, 12)), email="late@acme.test"))
    return dataclasses.replace(listed, identities=tuple(kept), deleted=frozenset(deleted))


@settings(max_examples=300, deadline=None)
@given(attributed_worlds())
def test_the_needs_are_those_of_the_first_covering_computation(world: World) -> None:
    assert accounts_needed(world.source, world.links, world.policy) == _reference_needs(
        world.source, world.links, world.policy
    )


@settings(max_examples=300, deadline=None)
@given(attributed_worlds(), st.data())
def test_after_confirming_only_the_changed_identities_are_looked_at_again(
    world: World, data: st.DataObject
) -> None:
    """Covering computed once (and again only for what the confirmation changed) names the
    same extra reads as computing it again over everyone."""
    listed = world.source
    confirmed = data.draw(confirmations(listed))
    asked = accounts_needed(listed, world.links, world.policy)
    again = accounts_needed(confirmed, world.links, world.policy) - asked
    assert needs_after_confirming(listed, confirmed, world.links, world.policy, asked) == again


def test_unchanged_identities_are_not_looked_at_again() -> None:
    one, two, three = identity(1), identity(2), identity(3)
    listed = make_source(one, two, three, deleted=frozenset({iid(4)}))
    confirmed = make_source(
        one, dataclasses.replace(two, enabled=False), deleted=frozenset({iid(3), iid(4)})
    )
    assert changed_identities(listed, confirmed) == {iid(2), iid(3)}
    assert changed_identities(listed, listed) == frozenset()
    links = [link(1), link(2), link(3)]
    asked = accounts_needed(listed, links, POLICY)
    more = needs_after_confirming(listed, confirmed, links, POLICY, asked)
    assert more == Needs(frozenset({aid(2), aid(3)}), frozenset())


def test_a_changed_identity_needs_nothing_already_asked() -> None:
    """Its account shared with someone unchanged was asked for already: not asked twice."""
    one, two = identity(1), identity(2)
    shared = [link(1), link(2, account_id=aid(1))]
    listed = make_source(one, two)
    asked = accounts_needed(listed, shared, POLICY)
    confirmed = make_source(one, dataclasses.replace(two, enabled=False))
    assert needs_after_confirming(listed, confirmed, shared, POLICY, asked) == Needs(
        frozenset(), frozenset()
    )
    assert IdentityId("kc-0002") in changed_identities(listed, confirmed)


def test_an_address_asked_for_someone_else_is_not_asked_again() -> None:
    """An unlinked person moved to an address another unlinked person holds: already asked."""
    one, two = identity(1), identity(2)
    listed = make_source(one, two)
    asked = accounts_needed(listed, [], POLICY)
    confirmed = make_source(one, dataclasses.replace(two, email=one.email))
    assert needs_after_confirming(listed, confirmed, [], POLICY, asked) == Needs(
        frozenset(), frozenset()
    )


def test_an_unlinked_address_is_asked_as_keycloak_spells_it_and_in_lower_case() -> None:
    """The v2 ``emails`` filter is exact and Atlassian does not say whether case counts: an
    account made by SAML sign-in keeps Keycloak's spelling, so both spellings are asked."""
    mixed = dataclasses.replace(identity(1), email=" Ada.Lovelace@Example.COM ")
    lower = dataclasses.replace(identity(2), email="grace@example.com")
    by_attribute = dataclasses.replace(
        identity(3), email="other@example.com", attributes={"workEmail": ("Alan@Example.com",)}
    )
    needs = accounts_needed(make_source(mixed, lower), [], POLICY)
    assert needs.emails == {"ada.lovelace@example.com", "Ada.Lovelace@Example.COM", lower.email}
    assert needs.requests == 1
    attribute_policy = dataclasses.replace(POLICY, match_attribute="workEmail")
    asked = accounts_needed(make_source(by_attribute), [], attribute_policy)
    assert asked.emails == {"alan@example.com", "Alan@Example.com"}
