"""The journal searched a page at a time (the console's history and its exports).

Newest first, keyset-paged on ``seq`` (an indexed primary key): each page is one bounded
query whatever the journal's size. A person is found by a whole Keycloak id or account id,
by part of the email journaled with the record, or by part of the email of the links.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.engine import Engine

from offboard.core.history import JournalQuery
from offboard.core.journal import JournalRecord
from offboard.store import rows
from offboard.store.schema import journal, links


def search(engine: Engine, query: JournalQuery) -> list[JournalRecord]:
    """At most ``query.limit`` records matching the query, newest first."""
    statement = select(journal).order_by(journal.c.seq.desc()).limit(query.limit)
    for condition in _conditions(query):
        statement = statement.where(condition)
    with engine.connect() as connection:
        return [rows.journal_from(row._mapping) for row in connection.execute(statement)]


def _conditions(query: JournalQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.before is not None:
        found.append(journal.c.seq < query.before)
    for column, value in (
        (journal.c.rule, query.rule),
        (journal.c.status, query.status),
        (journal.c.phase, query.phase),
        (journal.c.run_id, query.run_id),
    ):
        if value:
            found.append(column == value)
    if query.person:
        found.append(_person(query.person))
    return found


def _person(term: str) -> ColumnElement[bool]:
    """A whole id, or part of an email (on the record or on the person's links)."""
    exact = term.lower()
    pattern = "%" + _escaped(exact) + "%"
    by_link = select(links.c.identity_id).where(
        func.lower(links.c.email).like(pattern, escape="\\")
    )
    return or_(
        journal.c.identity_id == exact,
        journal.c.account_id == term,
        func.lower(journal.c.email).like(pattern, escape="\\"),
        journal.c.identity_id.in_(by_link) if "@" in term or len(term) > 2 else false(),
    )


def _escaped(text: str) -> str:
    """A LIKE pattern that matches ``text`` literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
