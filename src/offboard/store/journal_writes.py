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
_LINKS_OF = select(links.c.identity_id, links.c.account_id).where(
    links.c.identity_id.in_(bindparam("identities", expanding=True))
)
_LINK_INSERT = insert(links)
_LINK_UPDATE = update(links).where(LINK_KEY)
LOOKUP_CHUNK = 500
"""People whose known links one SELECT looks up (far under any backend's parameter limit)."""


def append_records(connection: Connection, records: Sequence[JournalRecord]) -> None:
    if records:
        connection.execute(APPEND, [rows.journal_values(record) for record in records])


def upsert_links(connection: Connection, new_links: Iterable[Link]) -> None:
    """Insert the new pairs and update the known ones, inside the caller's transaction.

    One SELECT per 500 people finds the known pairs, then one INSERT and one UPDATE each
    write many rows: an apply's commit carries the links of several read-backs, and a first
    run saves thousands, which a select and a write per link made a statement pair each. A
    pair given twice ends with its last values, as when written one after the other."""
    latest = {(link.identity_id, link.account_id): link for link in new_links}
    if not latest:
        return
    identities = sorted({identity for identity, _ in latest})
    known: set[tuple[str, str]] = set()
    for start in range(0, len(identities), LOOKUP_CHUNK):
        chunk = {"identities": identities[start : start + LOOKUP_CHUNK]}
        known.update(
            (identity, account) for identity, account in connection.execute(_LINKS_OF, chunk)
        )
    inserts = [rows.link_values(link) for key, link in latest.items() if key not in known]
    updates = [
        {**rows.link_values(link), "key_identity": key[0], "key_account": key[1]}
        for key, link in latest.items()
        if key in known
    ]
    if inserts:
        connection.execute(_LINK_INSERT, inserts)
    if updates:
        connection.execute(_LINK_UPDATE, updates)
