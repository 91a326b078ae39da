"""The journal searched a page at a time: filters, a person by id or part of an email, keyset
paging, and terms taken literally (on every backend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from offboard.core.accounts import AccountId
from offboard.core.history import MAX_PAGE, JournalQuery
from offboard.core.identities import IdentityId
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.links import Link
from offboard.store import SqlStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def fill(store: SqlStore, people: int = 30) -> None:
    run = store.start_run("daemon", T0)
    records = []
    for n in range(people):
        for step, status in ((Phase.OUTCOME, Status.SUCCEEDED), (Phase.READBACK, Status.VERIFIED)):
            records.append(JournalRecord(
                at=T0 + timedelta(seconds=n), run_id=run, action_key=f"deactivate:id-{n}:acc-{n}",
                phase=step, status=status if n % 5 else Status.FAILED, kind="deactivate",
                identity_id=f"id-{n}", account_id=f"acc-{n}", email=f"person{n}@example.com",
                rule="identity-disabled" if n % 2 else "identity-deleted",
            ))  # fmt: skip
    store.append_all(records, [Link(IdentityId("id-7"), AccountId("acc-7"), "grace@corp.example",
                                    linked_at=T0)])  # fmt: skip


def test_pages_are_bounded_newest_first_and_follow_on(store: SqlStore) -> None:
    fill(store)
    first = store.search_journal(JournalQuery(limit=25))
    assert len(first) == 25
    seqs = [r.seq or 0 for r in first]
    assert seqs == sorted(seqs, reverse=True)
    second = store.search_journal(JournalQuery(limit=25).following(seqs[-1]))
    assert len(second) == 25
    assert max(r.seq or 0 for r in second) < seqs[-1]
    assert JournalQuery(limit=10**9).limit == MAX_PAGE
    assert JournalQuery(limit=-3).limit == 1


def test_filters_by_rule_outcome_step_and_person(store: SqlStore) -> None:
    fill(store)
    failed = store.search_journal(JournalQuery(status="failed", limit=500))
    assert {r.identity_id for r in failed} == {f"id-{n}" for n in range(0, 30, 5)}
    deleted = store.search_journal(JournalQuery(rule="identity-deleted", phase="readback",
                                                limit=500))  # fmt: skip
    assert len(deleted) == 15
    assert {r.identity_id for r in store.search_journal(JournalQuery(person="id-12"))} == {"id-12"}
    assert {r.account_id for r in store.search_journal(JournalQuery(person="acc-3"))} == {"acc-3"}
    by_email = store.search_journal(JournalQuery(person="PERSON13@"))
    assert {r.identity_id for r in by_email} == {"id-13"}
    by_link = store.search_journal(JournalQuery(person="grace@corp"))
    assert {r.identity_id for r in by_link} == {"id-7"}


def test_terms_are_taken_literally(store: SqlStore) -> None:
    fill(store)
    for term in ("%", "_", "\\", "' or 1=1 --", "person1_@"):
        assert store.search_journal(JournalQuery(person=term, limit=500)) == [], term
    assert store.search_journal(JournalQuery(rule="%")) == []
