"""The first schema: links, snapshots, runs, plans, journal, cursors, leases.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    op.create_table(
        "links",
        sa.Column("identity_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(128), primary_key=True),
        sa.Column("email", sa.String(320)),
        sa.Column("linked_at", UTC_TIME, nullable=False),
        sa.Column("deactivated_by_offboard", sa.Boolean(), nullable=False),
        sa.Column("deactivated_at", UTC_TIME),
        sa.Column("deactivation_kind", sa.String(32)),
        sa.Column("leaving_since", UTC_TIME),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("side", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("taken_at", UTC_TIME, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("user_count", sa.Integer()),
        sa.Column("problems", sa.Text(), nullable=False),
    )
    op.create_index("ix_snapshots_side_kind", "snapshots", ["side", "kind", "id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("finished_at", UTC_TIME),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index("ix_plans_run_id", "plans", ["run_id"])
    op.create_index("ix_plans_fingerprint", "plans", ["fingerprint"])
    _create_journal()
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
    )


def _create_journal() -> None:
    op.create_table(
        "journal",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("action_key", sa.String(300), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("identity_id", sa.String(64)),
        sa.Column("account_id", sa.String(128)),
        sa.Column("email", sa.String(320)),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer()),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
    )
    op.create_index("ix_journal_run_action", "journal", ["run_id", "action_key"])
    op.create_index("ix_journal_identity", "journal", ["identity_id"])
    op.create_index("ix_journal_at", "journal", ["at"])
    op.create_index("ix_journal_phase", "journal", ["phase"])


def downgrade() -> None:
    for table in ("leases", "cursors", "journal", "plans", "runs", "snapshots", "links"):
        op.drop_table(table)
    op.drop_table("store_meta")
