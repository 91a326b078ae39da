"""Links remember operator acts: a manual cut-off (only a human gives that access back) and
a pairing made by hand (other identities claiming the account are then settled).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as links:
        links.add_column(
            sa.Column("cut_off_by_hand", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        links.add_column(
            sa.Column("linked_by_hand", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("links") as links:
        links.drop_column("linked_by_hand")
        links.drop_column("cut_off_by_hand")
