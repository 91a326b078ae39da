"""Licence reports (each daily check's figures, for the trend) and inactivity marks.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licence_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reclaimable_seats", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
    )
    op.create_index("ix_licence_reports_taken_at", "licence_reports", ["taken_at"])
    op.create_table(
        "inactivity_marks",
        sa.Column("account_id", sa.String(128), primary_key=True),
        sa.Column("identity_id", sa.String(64), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True)),
        sa.Column("removed_at", sa.DateTime(timezone=True)),
        sa.Column("removal_kind", sa.String(32)),
    )


def downgrade() -> None:
    op.drop_table("inactivity_marks")
    op.drop_index("ix_licence_reports_taken_at", table_name="licence_reports")
    op.drop_table("licence_reports")
