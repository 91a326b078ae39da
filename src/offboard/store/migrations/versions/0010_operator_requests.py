"""Operator acts asked for by hand while a daemon leads (``offboard cutoff`` hands them to
the leader instead of being refused).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "operator_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("person", sa.String(320), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("overrides", sa.String(400), nullable=False),
        sa.Column("requested_at", UTC_TIME, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("taken_at", UTC_TIME),
        sa.Column("finished_at", UTC_TIME),
    )
    op.create_index("ix_operator_requests_state", "operator_requests", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_operator_requests_state", table_name="operator_requests")
    op.drop_table("operator_requests")
