"""Index links by account: a re-check and recovery look links up by account id too.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_links_account_id", "links", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_links_account_id", table_name="links")
