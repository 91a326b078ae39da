"""Complete listings: paging, concurrency bound, completeness problems, service accounts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from offboard.core.identities import Lockout
from offboard.core.policy import Scope
from offboard.core.verdicts import in_scope
from tests.adapters.keycloak.conftest import make_source
from tests.adapters.keycloak.fake import FakeKeycloak, user


async def test_walks_every_page_and_casts_brief_users(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n, enabled=n % 7 != 0) for n in range(95)]
    seen: list[tuple[int, int | None]] = []

    snapshot = await source.snapshot(progress=lambda done, total: seen.append((done, total)))

    assert snapshot.complete, snapshot.problems
    assert [i.id for i in snapshot.identities] == [u["id"] for u in fake.users]
    assert snapshot.user_count == 95
    first = snapshot.identities[0]
    assert (first.username, first.email, first.enabled) == ("user0", "User0@Example.test", False)
    assert first.lockout is Lockout.UNKNOWN
    assert not first.disable_confirmed
    assert first.created_at is not None
    assert first.created_at.year == 2026
    assert seen[-1] == (95, 95)
    listed = [
        r for r in fake.requests if r.url.path.endswith("/users") and "username" not in r.url.params
    ]
    assert all(r.url.params["briefRepresentation"] == "true" for r in listed)
    offsets = sorted(int(r.url.params["first"]) for r in listed)
    assert offsets[:10] == list(range(0, 100, 10))
    assert offsets[10:] in ([], [100])  # at most one page past the count (count + tolerance)
    assert {r.url.params["max"] for r in listed} == {"11"}  # each page looks one user ahead


async def test_exact_multiple_of_the_page_size_ends_on_an_empty_page(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(30)]

    snapshot = await source.snapshot()

    assert snapshot.complete
    assert len(snapshot.identities) == 30


async def test_never_more_pages_in_flight_than_the_bound(fake: FakeKeycloak) -> None:
    fake.users = [user(n) for n in range(200)]
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return fake.handle(request)

    source = make_source(fake, page_size=10, concurrency=4)
    source.reader._client._transport = httpx.MockTransport(handler)
    async with source:
        snapshot = await source.snapshot()

    assert snapshot.complete
    assert len(snapshot.identities) == 200
    assert peak == 4


async def test_a_page_failing_after_retries_marks_the_snapshot_incomplete(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(45)]
    fake.failing["users?first=20"] = 99

    snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("offset 20 failed" in p and "503" in p for p in snapshot.problems)
    assert len(snapshot.identities) == 36  # page 10's look-ahead is the first of page 20


async def test_a_passing_hiccup_is_retried_and_the_snapshot_stays_complete(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(45)]
    fake.failing["users?first=20"] = 1

    snapshot = await source.snapshot()

    assert snapshot.complete, snapshot.problems
    assert len(snapshot.identities) == 45


async def test_a_short_page_in_the_middle_is_a_problem(fake: FakeKeycloak) -> None:
    fake.users = [user(n) for n in range(45)]

    def short_middle(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/users") and request.url.params.get("first") == "10":
            return httpx.Response(200, json=[user(n) for n in range(10, 15)])
        return None

    fake.override = short_middle
    async with make_source(fake, page_size=10, concurrency=4) as source:
        snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("short page at offset 10 was followed by users" in p for p in snapshot.problems)


async def test_a_count_that_moves_beyond_the_bound_is_a_problem(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(20)]
    fake.counts = [20, 40]

    snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("moved from 20 to 40" in p for p in snapshot.problems)


async def test_a_count_within_the_bound_is_a_clean_read(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(20)]
    fake.counts = [20, 22]

    snapshot = await source.snapshot()

    assert snapshot.complete
    assert snapshot.user_count == 22


async def test_fewer_users_listed_than_counted_is_a_problem(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(20)]
    fake.counts = [60, 60]

    snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("listed 20 users but users/count says 60" in p for p in snapshot.problems)


async def test_an_unreadable_count_is_a_problem_not_an_exception(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(5)]
    fake.forbidden = {"users/count"}

    snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("users/count could not be read" in p for p in snapshot.problems)


async def test_an_empty_realm_is_complete_and_empty(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    snapshot = await source.snapshot()

    assert snapshot.complete
    assert snapshot.identities == ()
    assert snapshot.user_count == 0


async def test_service_accounts_are_included_and_flagged(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(1), user(2, username="service-account-fan")]  # a person, oddly named
    robot = user(9, username="service-account-offboard", email=None)
    fake.service_accounts = [robot, fake.users[1]]

    snapshot = await source.snapshot()

    by_name = {i.username: i for i in snapshot.identities}
    assert by_name["service-account-offboard"].service_account_client_id == "offboard"
    assert not by_name["service-account-fan"].is_service_account
    assert not by_name["user1"].is_service_account
    assert snapshot.complete


async def test_attribute_scope_filters_listing_and_count_with_q(fake: FakeKeycloak) -> None:
    fake.users = [user(n) for n in range(3)]
    scope = KeycloakScope(attributes={"department": "eng", "site": "ber"})
    async with make_source(fake, page_size=10, scope=scope) as source:
        snapshot = await source.snapshot()

    assert snapshot.complete
    assert len(snapshot.identities) == 3
    listing = [r for r in fake.requests if r.url.path.endswith(("/users", "/users/count"))]
    assert {r.url.params["q"] for r in listing} == {"department:eng site:ber"}
    assert "users?username" not in str([str(r.url) for r in listing])


async def test_attribute_scope_vouches_for_the_values_brief_listings_leave_out(
    fake: FakeKeycloak,
) -> None:
    # Brief representations carry no attributes; the planner re-checks the attribute scope.
    # Without the server's q= filter vouching for the value, everyone would look out of scope.
    fake.users = [user(n) for n in range(3)]
    scope = KeycloakScope(attributes={"department": "eng"})
    async with make_source(fake, page_size=10, scope=scope) as source:
        snapshot = await source.snapshot()

    core_scope = Scope(attribute=("department", "eng"))
    assert all(in_scope(identity, core_scope) for identity in snapshot.identities)


async def test_group_scope_pages_members_and_records_groups(fake: FakeKeycloak) -> None:
    groups = {"staff": ("g-1", "/staff"), "staff/eng": ("g-2", "/staff/eng")}
    members = {"g-1": [user(n) for n in range(12)], "g-2": [user(n) for n in range(10, 14)]}

    def groups_api(request: httpx.Request) -> httpx.Response | None:
        path = request.url.path.split("/acme/", 1)[1]
        if path.startswith("group-by-path/"):
            found = groups.get(path.removeprefix("group-by-path/"))
            if found is None:
                return httpx.Response(404, json={"error": "Group path does not exist"})
            return httpx.Response(200, json={"id": found[0], "name": "x", "path": found[1]})
        if path.startswith("groups/"):
            first, size = int(request.url.params["first"]), int(request.url.params["max"])
            return httpx.Response(200, json=members[path.split("/")[1]][first : first + size])
        return None

    fake.override = groups_api
    scope = KeycloakScope(group_paths=("/staff", "staff/eng"))
    async with make_source(fake, page_size=5, scope=scope) as source:
        snapshot = await source.snapshot()

    assert snapshot.complete, snapshot.problems
    by_name = {i.username: i for i in snapshot.identities}
    assert len(by_name) == 14
    assert by_name["user0"].groups == {"/staff"}
    assert by_name["user11"].groups == {"/staff", "/staff/eng"}
    assert by_name["user13"].groups == {"/staff/eng"}

    scope = KeycloakScope(group_paths=("/gone",))
    async with make_source(fake, page_size=5, scope=scope) as source:
        missing = await source.snapshot()
    assert not missing.complete
    assert any("'/gone' could not be resolved" in p for p in missing.problems)


async def test_one_user_skipped_by_a_deletion_during_the_walk_is_a_problem(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(28)]
    fake.counts = [30, 29]  # one deleted mid-walk; the shifted offsets hid another

    snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("listed 28 users but users/count says 29" in p for p in snapshot.problems)


async def test_a_realm_that_grew_past_the_count_is_not_walked_forever(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(100)]
    fake.counts = [20, 100]

    snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("stopped before reaching the end" in p for p in snapshot.problems)
    listed = [r for r in fake.requests if r.url.path.endswith("/users")]
    assert len(listed) <= 4  # (20 + 5) // 10 + 1 pages, plus the service-account query


def mutate_after_first_page(fake: FakeKeycloak, change: Callable[[], object]) -> None:
    """Apply ``change`` to the realm right after the first page has been served."""

    def override(request: httpx.Request) -> httpx.Response | None:
        params = request.url.params
        if request.url.path.endswith("/users") and params.get("first") == "0":
            answer = fake.handle_list(params)
            change()
            return answer
        return None

    fake.override = override


async def test_a_deletion_that_shifts_a_page_boundary_is_a_problem(fake: FakeKeycloak) -> None:
    fake.users = [user(n) for n in range(40)]
    fake.counts = [40, 39]  # within the tolerance: the counts alone would not tell
    mutate_after_first_page(fake, lambda: fake.users.pop(3))
    async with make_source(fake, page_size=10, concurrency=1) as source:
        snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("shifted at offset 10" in p for p in snapshot.problems)
    assert "user10" in {i.username for i in snapshot.identities}  # the look-ahead caught it


async def test_insertions_during_the_walk_only_repeat_users(fake: FakeKeycloak) -> None:
    fake.users = [user(n) for n in range(40)]
    fake.counts = [40, 41]
    mutate_after_first_page(fake, lambda: fake.users.insert(3, user(99)))
    async with make_source(fake, page_size=10, concurrency=1) as source:
        snapshot = await source.snapshot()

    assert snapshot.complete, snapshot.problems
    assert len(snapshot.identities) == 40  # the newcomer sorted into a page already read


async def test_a_malformed_page_is_a_problem_not_a_crash(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n) for n in range(25)]
    fake.users[12] = {k: v for k, v in fake.users[12].items() if k != "enabled"}  # never guessed

    snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("offset 10 failed" in p and "enabled" in p for p in snapshot.problems)
