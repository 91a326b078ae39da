"""The tables, as SQLAlchemy Core metadata. Portable types only (SQLite and PostgreSQL).

Migrations under ``migrations/versions`` create exactly these tables; a test compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)

SCHEMA_VERSION = 11
"""Bumped with every migration; a store with a higher number was written by a newer offboard."""


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store only takes aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)

links = Table(
    "links",
    metadata,
    Column("identity_id", String(64), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("email", String(320)),
    Column("linked_at", UtcDateTime(), nullable=False),
    Column("deactivated_by_offboard", Boolean(), nullable=False, default=False),
    Column("deactivated_at", UtcDateTime()),
    Column("deactivation_kind", String(32)),
    Column("leaving_since", UtcDateTime()),
    Column("cut_off_by_hand", Boolean(), nullable=False, default=False, server_default=false()),
    Column("linked_by_hand", Boolean(), nullable=False, default=False, server_default=false()),
    # The primary key starts with identity_id; lookups by account need their own index.
    Index("ix_links_account_id", "account_id"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("side", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("taken_at", UtcDateTime(), nullable=False),
    Column("count", Integer(), nullable=False),
    Column("complete", Boolean(), nullable=False),
    Column("user_count", Integer()),
    Column("problems", Text(), nullable=False),
    Index("ix_snapshots_side_kind", "side", "kind", "id"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("status", String(32), nullable=False),
    Column("summary", Text(), nullable=False),
    Index("ix_runs_started_at", "started_at"),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("document", Text(), nullable=False),
    Index("ix_plans_run_id", "run_id"),
    Index("ix_plans_fingerprint", "fingerprint"),
)

journal = Table(
    "journal",
    metadata,
    Column("seq", Integer(), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("action_key", String(300), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("identity_id", String(64)),
    Column("account_id", String(128)),
    Column("email", String(320)),
    Column("rule", String(64), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("http_status", Integer()),
    Column("detail", Text(), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Index("ix_journal_run_action", "run_id", "action_key"),
    Index("ix_journal_identity", "identity_id"),
    Index("ix_journal_at", "at"),
    Index("ix_journal_phase", "phase"),
)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", Text(), nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    # The fencing token: bumped at every take-over, never at a renewal. Writes that carry an
    # older token come from a leader that was replaced while it was paused, and are refused.
    Column("token", Integer(), nullable=False, server_default="0"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(128), primary_key=True),
    Column("seen_at", UtcDateTime(), nullable=False),
    Index("ix_webhook_deliveries_seen_at", "seen_at"),
)
licence_reports = Table(
    "licence_reports",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("taken_at", UtcDateTime(), nullable=False),
    Column("reclaimable_seats", Integer(), nullable=False),
    Column("summary", Text(), nullable=False),
    Index("ix_licence_reports_taken_at", "taken_at"),
)
"""One row per licence check: the figures of its summary, for the trend over time."""

inactivity_marks = Table(
    "inactivity_marks",
    metadata,
    Column("account_id", String(128), primary_key=True),
    Column("identity_id", String(64), nullable=False),
    Column("warned_at", UtcDateTime()),
    Column("removed_at", UtcDateTime()),
    Column("removal_kind", String(32)),
)
"""What the inactivity policy did to each account: warned, access removed (and how)."""

# The deprovisioning budget and the hold (migration 0007). One lock row per budget category
# serialises reservations on every backend: its UPDATE takes SQLite's write lock or a
# PostgreSQL row lock before the windows are counted.
budget_locks = Table(
    "budget_locks",
    metadata,
    Column("category", String(32), primary_key=True),
    Column("reservations", Integer(), nullable=False),
)

budget_spend = Table(
    "budget_spend",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("category", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("action_key", String(300), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("identity_id", String(64)),
    Column("approved", Boolean(), nullable=False),
    Index("ix_budget_spend_category_at", "category", "at"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("category", String(32), nullable=False),
    Column("guards", String(255), nullable=False),
    Column("message", Text(), nullable=False),
    Column("since", UtcDateTime(), nullable=False),
    Column("released_at", UtcDateTime()),
    Column("released_by", String(255)),
    Column("release_reason", Text()),
    Index("ix_holds_category_released", "category", "released_at"),
)

hold_waiting = Table(
    "hold_waiting",
    metadata,
    Column("hold_id", Integer(), primary_key=True),
    Column("action_key", String(300), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("identity_id", String(64), nullable=False),
    Column("account_id", String(128), nullable=False),
    Column("email", String(320)),
    Column("since", UtcDateTime(), nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime()),
    Column("attempts", Integer(), nullable=False, default=0),
)
"""One row per condition that needs a human and channel told of it (de-duplication across
restarts and failovers); a digest is a row keyed ``digest:YYYY-MM-DD``."""
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("subject", String(255), nullable=False),
    Column("username", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("email", String(320)),
    Column("roles", String(255), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("id_token", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("refresh_token", Text()),
    Index("ix_console_sessions_expires_at", "expires_at"),
)

operator_requests = Table(
    "operator_requests",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("person", String(320), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("overrides", String(400), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("outcome", Text(), nullable=False),
    Column("taken_at", UtcDateTime()),
    Column("finished_at", UtcDateTime()),
    Index("ix_operator_requests_state", "state", "id"),
)
"""Operator acts asked for by hand while a daemon leads (``core.operator_requests``): the
leader takes the oldest queued one, carries it out and writes its outcome."""
