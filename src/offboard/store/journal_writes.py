"""The writes a journal commit makes: records appended, links upserted (portable SQL).

Shared by ``SqlStore.append_all`` and ``Store.admit``, which commits an apply's journal
writes of the moment in the same transaction as its admissions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from offboard.core.journal import JournalRecord
from offboard.core.links import Link
from offboard.store import rows
from offboard.store.schema import journal, links

# Constant statements executed with parameters are compiled once, not once per row.
APPEND = insert(journal)
LINK_KEY = and_(
    links.c.identity_id == bindparam("key_identity"),
    links.c.account_id == bindparam("key_account"),
)
_LINK_EXISTS = select(links.c.identity_id).where(LINK_KEY)
_LINK_INSERT = insert(links)
_LINK_UPDATE = update(links).where(LINK_KEY)


def append_records(connection: Connection, records: Sequence[JournalRecord]) -> None:
    if records:
        connection.execute(APPEND, [rows.journal_values(record) for record in records])


def upsert_links(connection: Connection, new_links: Iterable[Link]) -> None:
    """Select-then-insert-or-update, inside the caller's transaction."""
    for link in new_links:
        key = {"key_identity": link.identity_id, "key_account": link.account_id}
        values = rows.link_values(link)
        if connection.scalar(_LINK_EXISTS, key) is None:
            connection.execute(_LINK_INSERT, values)
        else:
            connection.execute(_LINK_UPDATE, {**values, **key})
