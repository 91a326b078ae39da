"""How much each table holds: rows, and bytes on disk where the backend tells.

SQLite: the pages of the table and its indexes (``dbstat``, compiled into most builds;
without it the bytes are unknown). PostgreSQL: ``pg_total_relation_size`` (table, indexes
and TOAST).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError

from offboard.store.schema import metadata


@dataclass(frozen=True, slots=True)
class TableSize:
    name: str
    rows: int
    bytes: int | None
    """None when the backend does not say (SQLite without ``dbstat``)."""


def table_sizes(engine: Engine) -> list[TableSize]:
    """Every offboard table, by name."""
    with engine.connect() as connection:
        on_disk = _bytes(connection)
        return [
            TableSize(
                table.name,
                int(connection.scalar(select(func.count()).select_from(table)) or 0),
                on_disk.get(table.name) if on_disk else None,
            )
            for table in sorted(metadata.tables.values(), key=lambda t: t.name)
        ]


def _bytes(connection: Connection) -> dict[str, int]:
    """Bytes by table name; empty when the backend does not say."""
    if connection.dialect.name == "postgresql":
        names = [table.name for table in metadata.tables.values()]
        query = text(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relkind = 'r' AND relname = ANY(:names) AND pg_table_is_visible(oid)"
        )
        return {name: int(size) for name, size in connection.execute(query, {"names": names})}
    try:
        pages = connection.execute(
            text(
                "SELECT s.tbl_name, SUM(d.pgsize) FROM dbstat AS d JOIN sqlite_schema AS s "
                "ON s.name = d.name GROUP BY s.tbl_name"
            )
        )
        return {name: int(size) for name, size in pages}
    except DatabaseError:  # a SQLite built without dbstat
        connection.rollback()
        return {}
