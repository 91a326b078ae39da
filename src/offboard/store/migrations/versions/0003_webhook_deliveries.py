"""Webhook delivery ids, so a replayed delivery is refused after a restart too.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(128), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_webhook_deliveries_seen_at", "webhook_deliveries", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_seen_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
