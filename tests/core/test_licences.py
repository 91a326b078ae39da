"""The licence report on plain data: states, seats, histogram and cost, counted by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from offboard.core.accounts import Account, AccountId, Membership, ScimLink
from offboard.core.identities import Identity, IdentityId
from offboard.core.licence_rendering import summary, to_csv, to_html
from offboard.core.licences import (
    AccountUsage,
    Ownership,
    ProductUse,
    ReportOptions,
    SeatState,
    build_report,
)
from offboard.core.links import Link

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def usage(n: str, days: int | None, *products: str, billable: bool = True) -> AccountUsage:
    used = None if days is None else NOW - timedelta(days=days)
    return AccountUsage(f"acc-{n}", f"{n}@example.com", billable,
                        tuple(ProductUse(p, used) for p in products))  # fmt: skip


def test_each_state_seats_and_cost() -> None:
    usages = [
        usage("ann", 2, "jira-software", "confluence"),  # active
        usage("ben", 100, "jira-software"),  # inactive
        usage("cat", 1, "confluence"),  # leaver (disabled)
        usage("dan", 400, "jira-software"),  # orphan
        usage("eve", None, "confluence"),  # unlinked SCIM, never used
        usage("fay", 5, "jira-software", billable=False),  # not billable: no seat
        usage("gus", 5, "jira-software"),  # suspended: no seat
        usage("hal", 3, "jira-software"),  # matched by email, not linked: owned
    ]
    accounts = [
        Account(AccountId("acc-eve"), "eve@example.com",
                scim=ScimLink("scim-1", "s-eve"), added_to_org=NOW - timedelta(days=10)),
        Account(AccountId("acc-gus"), "gus@example.com", membership=Membership.SUSPENDED),
    ]  # fmt: skip
    people = [
        Identity(IdentityId("kc-ann"), "ann", "ann@example.com", True),
        Identity(IdentityId("kc-ben"), "ben", "ben@example.com", True),
        Identity(IdentityId("kc-cat"), "cat", "cat@example.com", False),
        Identity(IdentityId("kc-hal"), "hal", "HAL@example.com", True),
    ]
    links = [
        Link(IdentityId(f"kc-{n}"), AccountId(f"acc-{n}"), None, NOW) for n in ("ann", "ben", "cat")
    ]
    options = ReportOptions(inactive_days=90, prices={"jira-software": 10.0, "*": 5.0})
    report = build_report(usages, accounts, Ownership.index(people, links), options, NOW)
    states = {line.account_id: line.state for line in report.lines}
    assert states == {
        "acc-ann": SeatState.ACTIVE, "acc-ben": SeatState.INACTIVE, "acc-cat": SeatState.LEAVER,
        "acc-dan": SeatState.ORPHAN, "acc-eve": SeatState.UNLINKED_SCIM,
        "acc-hal": SeatState.ACTIVE,
    }  # fmt: skip
    assert report.seats == {
        "confluence": {"active": 1, "leaver": 1, "unlinked_scim": 1},
        "jira-software": {"active": 2, "inactive": 1, "orphan": 1},
    }
    assert report.reclaimable_seats == 4
    assert report.reclaimable_cost() == 10.0 * 2 + 5.0 * 2
    assert report.histogram == {"0-7": 3, "8-30": 0, "31-90": 0, "91-180": 1, "181-365": 0,
                                ">365": 1, "never": 1}  # fmt: skip
    figures = summary(report)
    assert figures["accounts_by_state"] == {"leaver": 1, "unlinked_scim": 1, "orphan": 1,
                                            "inactive": 1, "active": 2}  # fmt: skip
    assert to_csv(report).count("\n") == 1 + 4  # header and the reclaimable accounts
    assert "<svg" in to_html(report)


def test_never_used_but_new_is_active() -> None:
    fresh = Account(AccountId("acc-new"), "new@example.com", added_to_org=NOW - timedelta(days=3))
    person = Identity(IdentityId("kc-new"), "new", "new@example.com", True)
    link = Link(person.id, fresh.id, None, NOW)
    report = build_report([usage("new", None, "confluence")], [fresh],
                          Ownership.index([person], [link]), ReportOptions(), NOW)  # fmt: skip
    assert [line.state for line in report.lines] == [SeatState.ACTIVE]


def test_a_person_recreated_in_keycloak_is_not_a_leavers_seat() -> None:
    """The link still names the old Keycloak id (deleted, or gone from the read), but an
    enabled person with the account's email is there: the seat is theirs, not reclaimable.
    An account with two links is a leaver's only when no linked person is current."""
    usages = [usage("ann", 2, "jira-software"), usage("bob", 2, "jira-software")]
    people = [
        Identity(IdentityId("kc-ann-new"), "ann", "ann@example.com", True),
        Identity(IdentityId("kc-bob"), "bob", "bob@example.com", True),
        Identity(IdentityId("kc-bob-old"), "bob.old", "bob.old@example.com", False),
    ]
    links = [
        Link(IdentityId("kc-ann-old"), AccountId("acc-ann"), "ann@example.com", NOW),
        Link(IdentityId("kc-bob"), AccountId("acc-bob"), "bob@example.com", NOW),
        Link(IdentityId("kc-bob-old"), AccountId("acc-bob"), "bob@example.com", NOW),
    ]
    for order in (links, links[::-1]):
        ownership = Ownership.index(people, order, deleted=["kc-ann-old"])
        report = build_report(usages, [], ownership, ReportOptions(), NOW)
        assert {line.account_id: line.state for line in report.lines} == {
            "acc-ann": SeatState.ACTIVE, "acc-bob": SeatState.ACTIVE,
        }  # fmt: skip
    gone = build_report(
        usages[:1], [], Ownership.index(people[1:], links[:1]), ReportOptions(), NOW
    )
    assert [line.state for line in gone.lines] == [SeatState.LEAVER]  # nobody has the email


def test_a_person_who_left_before_offboard_was_watching_holds_a_leavers_seat() -> None:
    """Day one: no link yet, and the only Keycloak user with the account's email is disabled.
    The seat is a leaver's (reclaimable), not an active person's because it was used lately."""
    usages = [usage("ann", 1, "jira-software"), usage("bob", 1, "jira-software")]
    people = [
        Identity(IdentityId("kc-ann"), "ann", "ann@example.com", False),
        Identity(IdentityId("kc-bob"), "bob", "bob@example.com", True),
    ]
    report = build_report(usages, [], Ownership.index(people, []), ReportOptions(), NOW)
    assert {line.account_id: line.state for line in report.lines} == {
        "acc-ann": SeatState.LEAVER, "acc-bob": SeatState.ACTIVE,
    }  # fmt: skip


def test_a_product_without_a_price_is_said_to_be_unpriced_not_free() -> None:
    """Prices name jira-software only (no "*"): confluence's reclaimable seats cost nothing
    in the figures, and the report must say they are unpriced rather than show 0.00."""
    from offboard.core.licence_rendering import product_rows

    usages = [usage("dan", 400, "jira-software", "confluence")]  # an orphan: reclaimable
    options = ReportOptions(prices={"jira-software": 10.0})
    report = build_report(usages, [], Ownership.index([], []), options, NOW)
    assert report.unpriced_products() == ("confluence",)
    rows = {row[0]: row[-1] for row in product_rows(report)}
    assert rows == {"confluence": "unpriced", "jira-software": "10.00"}
    assert summary(report)["unpriced_products"] == ["confluence"]
    priced = ReportOptions(prices={"jira-software": 10.0, "*": 1.0})
    assert build_report(usages, [], Ownership.index([], []), priced, NOW).unpriced_products() == ()
