"""The deprovisioning budget over time and the hold: lock rows, spent slots, holds, waiters.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "budget_locks",
        sa.Column("category", sa.String(32), primary_key=True),
        sa.Column("reservations", sa.Integer(), nullable=False),
    )
    op.create_table(
        "budget_spend",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("action_key", sa.String(300), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("identity_id", sa.String(64)),
        sa.Column("approved", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_budget_spend_category_at", "budget_spend", ["category", "at"])
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("guards", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("since", UTC_TIME, nullable=False),
        sa.Column("released_at", UTC_TIME),
        sa.Column("released_by", sa.String(255)),
        sa.Column("release_reason", sa.Text()),
    )
    op.create_index("ix_holds_category_released", "holds", ["category", "released_at"])
    op.create_table(
        "hold_waiting",
        sa.Column("hold_id", sa.Integer(), primary_key=True),
        sa.Column("action_key", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("identity_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("since", UTC_TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hold_waiting")
    op.drop_index("ix_holds_category_released", table_name="holds")
    op.drop_table("holds")
    op.drop_index("ix_budget_spend_category_at", table_name="budget_spend")
    op.drop_table("budget_spend")
    op.drop_table("budget_locks")
