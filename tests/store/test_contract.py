"""The Store contract, on every backend."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.journal import JournalRecord, Phase, SnapshotSummary, Status
from offboard.core.links import Link
from offboard.ports import Store
from offboard.store import SqlStore
from offboard.store.rows import LINK_COLUMNS
from offboard.store.schema import links

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _link(n: int, **changes: object) -> Link:
    link = Link(IdentityId(f"id-{n}"), AccountId(f"acc-{n}"), f"user{n}@example.com", T0)
    return replace(link, **changes)  # type: ignore[arg-type]


def _record(run_id: str, key: str, phase: Phase, status: Status, minute: int = 0) -> JournalRecord:
    return JournalRecord(
        at=T0 + timedelta(minutes=minute),
        run_id=run_id,
        action_key=key,
        phase=phase,
        status=status,
        kind="deactivate",
        identity_id=key.split(":")[1] if ":" in key else None,
        account_id="acc",
        fingerprint="fp",
    )


def test_sql_store_satisfies_the_port(store: SqlStore) -> None:
    port: Store = store
    assert port.links() == []


def test_links_are_inserted_then_updated_in_place(store: SqlStore) -> None:
    store.upsert_links([_link(1), _link(2)])
    deactivated = _link(1, deactivated_by_offboard=True, deactivated_at=T0, deactivation_kind="x")
    store.upsert_links([deactivated])
    assert store.links() == [deactivated, _link(2)]


def test_one_upsert_inserts_new_pairs_and_updates_known_ones_across_chunks(
    store: SqlStore,
) -> None:
    """Links are looked up 500 people at a time and written in bulk: known pairs past the
    first chunk are updated in place, not inserted twice, and new ones beside them added."""
    known = [_link(n) for n in range(1, 1203)]
    store.upsert_links(known)
    changed = [_link(n, email=f"changed{n}@example.com") for n in range(1, 1203, 2)]
    # A second account for a known person is a new pair, not an update of the first.
    beside = Link(IdentityId("id-600"), AccountId("acc-600-b"), "second@example.com", T0)
    store.upsert_links([*changed, beside, _link(5000)])
    saved = {(link.identity_id, link.account_id): link for link in store.links()}
    assert len(saved) == len(known) + 2
    for link in [*changed, beside, _link(5000)]:
        assert saved[(link.identity_id, link.account_id)] == link
    assert saved[(IdentityId("id-1200"), AccountId("acc-1200"))] == _link(1200)


def test_a_pair_given_twice_in_one_upsert_ends_with_its_last_values(store: SqlStore) -> None:
    first, last = _link(1, email="first@example.com"), _link(1, email="last@example.com")
    store.upsert_links([first, last])
    assert store.links() == [last]
    store.upsert_links([_link(1, email="again@example.com"), last])
    assert store.links() == [last]


def test_links_can_be_read_for_some_identities_or_accounts_only(store: SqlStore) -> None:
    every = [_link(n) for n in range(1, 1203)]  # more than one IN chunk
    store.upsert_links(every)
    wanted = sorted([every[0], every[600], every[1201]], key=lambda link: link.identity_id)
    assert store.links(identity_ids=[w.identity_id for w in wanted]) == wanted
    assert store.links(account_ids=[every[5].account_id]) == [every[5]]
    either = store.links(identity_ids=[every[0].identity_id], account_ids=[every[9].account_id])
    assert either == [every[0], every[9]]
    assert store.links(identity_ids=["nobody"]) == []
    assert store.links(identity_ids=[]) == []
    assert len(store.links()) == len(every)


def test_every_field_of_a_link_comes_back_in_its_place(store: SqlStore) -> None:
    """Links are read by column position: each field, set apart from its neighbours, must
    come back where it was (both flags at once, and each flag alone)."""
    both = _link(
        1,
        email=None,
        deactivated_by_offboard=True,
        deactivated_at=T0 + timedelta(days=1),
        deactivation_kind="suspend",
        leaving_since=T0 + timedelta(days=2),
        linked_by_hand=True,
        cut_off_by_hand=True,
    )
    by_hand, cut_off = _link(2, linked_by_hand=True), _link(3, cut_off_by_hand=True)
    store.upsert_links([both, by_hand, cut_off])
    assert store.links() == [both, by_hand, cut_off]
    assert store.links(account_ids=["acc-3"], identity_ids=["id-2"]) == [by_hand, cut_off]
    assert all(type(flag) is bool for link in store.links() for flag in _flags(link))


def test_links_are_selected_in_the_order_of_their_fields() -> None:
    """Every column of the table, in ``Link``'s field order (the read takes them by position)."""
    assert tuple(field.name for field in fields(Link)) == LINK_COLUMNS
    assert set(LINK_COLUMNS) == set(links.c.keys())


def _flags(link: Link) -> tuple[bool, ...]:
    return (link.deactivated_by_offboard, link.linked_by_hand, link.cut_off_by_hand)


def test_datetimes_come_back_aware_utc(store: SqlStore) -> None:
    other_zone = datetime(2026, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    store.upsert_links([_link(1, linked_at=other_zone)])
    (link,) = store.links()
    assert link.linked_at == other_zone
    assert link.linked_at.tzinfo == UTC


def test_last_snapshot_is_the_latest_of_its_side_and_kind(store: SqlStore) -> None:
    first = SnapshotSummary("keycloak", T0, 100, True, user_count=100)
    second = SnapshotSummary("keycloak", T0 + timedelta(hours=1), 90, False, problems=("short",))
    targeted = SnapshotSummary("keycloak", T0 + timedelta(hours=2), 1, True, kind="targeted")
    for summary in (first, second, targeted, SnapshotSummary("atlassian", T0, 7, True)):
        store.record_snapshot(summary)
    assert store.last_snapshot("keycloak") == second
    assert store.last_snapshot("keycloak", "targeted") == targeted
    assert store.last_snapshot("nowhere") is None


def test_runs_start_finish_and_list_newest_first(store: SqlStore) -> None:
    older = store.start_run("plan", T0)
    newer = store.start_run("reconcile", T0 + timedelta(minutes=5))
    store.finish_run(older, T0 + timedelta(minutes=1), "succeeded", {"actions": 2})
    listed = store.runs()
    assert [run.id for run in listed] == [newer, older]
    assert listed[0].status == "running"
    assert listed[1].summary == {"actions": 2}
    assert listed[1].finished_at == T0 + timedelta(minutes=1)
    assert len(store.runs(limit=1)) == 1


def test_plans_are_kept_with_their_fingerprint(store: SqlStore) -> None:
    run_id = store.start_run("plan", T0)
    store.save_plan(run_id, "abc", '{"actions": []}')
    assert store.plan_document(run_id) == ("abc", '{"actions": []}')
    assert store.plan_document("missing") is None


def test_journal_keeps_append_order_and_filters(store: SqlStore) -> None:
    seqs = [
        store.append(_record("r1", "deactivate:id-1:acc", Phase.INTENT, Status.PENDING, 0)),
        store.append(_record("r1", "deactivate:id-1:acc", Phase.OUTCOME, Status.SUCCEEDED, 1)),
        store.append(_record("r2", "deactivate:id-2:acc", Phase.INTENT, Status.PENDING, 2)),
    ]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    everything = store.journal()
    assert [r.seq for r in everything] == seqs
    assert everything[1] == replace(
        _record("r1", "deactivate:id-1:acc", Phase.OUTCOME, Status.SUCCEEDED, 1), seq=seqs[1]
    )
    assert [r.seq for r in store.journal(run_id="r2")] == [seqs[2]]
    assert [r.seq for r in store.journal(identity_id="id-1")] == seqs[:2]
    assert [r.seq for r in store.journal(since=T0 + timedelta(minutes=1))] == seqs[1:]
    assert [r.seq for r in store.journal(limit=2)] == seqs[:2]


def test_append_all_writes_records_in_order_and_links_in_one_commit(store: SqlStore) -> None:
    key = "deactivate:id-1:acc"
    store.append(_record("r1", key, Phase.INTENT, Status.PENDING, 0))
    attempt = _record("r1", key, Phase.ATTEMPT, Status.SUCCEEDED, 1)
    outcome = _record("r1", key, Phase.OUTCOME, Status.SUCCEEDED, 1)
    store.append_all([attempt, outcome])
    store.append_all([_record("r1", key, Phase.READBACK, Status.VERIFIED, 2)], [_link(1)])
    assert [r.phase for r in store.journal()] == [
        Phase.INTENT, Phase.ATTEMPT, Phase.OUTCOME, Phase.READBACK,
    ]  # fmt: skip
    assert store.links() == [_link(1)]
    store.append_all([], [replace(_link(1), email="new@example.test")])
    assert store.links()[0].email == "new@example.test"


def test_append_all_writes_nothing_when_any_part_fails(store: SqlStore) -> None:
    broken = replace(_link(2), linked_at=None)  # NOT NULL: the whole commit must fail
    with pytest.raises(IntegrityError):
        store.append_all([_record("r1", "k", Phase.READBACK, Status.VERIFIED)], [broken])
    assert store.journal() == []
    assert store.links() == []


def test_unfinished_lists_intents_without_outcome_or_recovery(store: SqlStore) -> None:
    key_a, key_b, key_c = "deactivate:a:1", "suspend:b:2", "deactivate:c:3"
    store.append(_record("r1", key_a, Phase.INTENT, Status.PENDING))
    store.append(_record("r1", key_a, Phase.ATTEMPT, Status.SUCCEEDED))
    store.append(_record("r1", key_b, Phase.INTENT, Status.PENDING))
    store.append(_record("r1", key_b, Phase.OUTCOME, Status.FAILED))
    store.append(_record("r1", key_c, Phase.INTENT, Status.PENDING))
    store.append(_record("r1", key_c, Phase.RECOVERED, Status.SUCCEEDED))
    store.append(_record("r2", key_b, Phase.INTENT, Status.PENDING))
    assert [(r.run_id, r.action_key) for r in store.unfinished()] == [("r1", key_a), ("r2", key_b)]


def test_cursors_are_set_and_overwritten(store: SqlStore) -> None:
    assert store.cursor("keycloak-events") is None
    store.set_cursor("keycloak-events", "1")
    store.set_cursor("keycloak-events", "2")
    assert store.cursor("keycloak-events") == "2"


def test_lease_is_exclusive_until_it_expires_or_is_released(store: SqlStore) -> None:
    ttl = timedelta(seconds=30)
    assert store.acquire_lease("leader", "a", ttl, T0)
    assert not store.acquire_lease("leader", "b", ttl, T0 + timedelta(seconds=10))
    assert store.acquire_lease("leader", "a", ttl, T0 + timedelta(seconds=20))  # renew
    assert not store.acquire_lease("leader", "b", ttl, T0 + timedelta(seconds=45))
    assert store.acquire_lease("leader", "b", ttl, T0 + timedelta(seconds=51))  # expired
    store.release_lease("leader", "a")  # not a's any more: no effect
    assert not store.acquire_lease("leader", "a", ttl, T0 + timedelta(seconds=52))
    store.release_lease("leader", "b")
    assert store.acquire_lease("leader", "a", ttl, T0 + timedelta(seconds=53))
    assert store.acquire_lease("other", "b", ttl, T0 + timedelta(seconds=53))


def test_runs_are_found_by_the_start_of_their_id_newest_first(store: SqlStore) -> None:
    older = store.start_run("apply", T0)
    newer = store.start_run("apply", T0 + timedelta(minutes=1))
    assert [r.id for r in store.runs_starting("")] == [newer, older]
    assert [r.id for r in store.runs_starting(older[:12])] == [older]
    assert store.runs_starting("%") == []  # a prefix, not a pattern
    assert store.runs_starting("_" * 8) == []
