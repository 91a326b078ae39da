"""Console sessions keep Keycloak's refresh token: each act asks Keycloak again whether the
operator is still enabled and still holds the operator role.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("console_sessions", sa.Column("refresh_token", sa.Text(), nullable=True))
    # Open sessions have no refresh token to ask with: they end, and people log in once more.
    op.execute(sa.text("DELETE FROM console_sessions"))


def downgrade() -> None:
    op.drop_column("console_sessions", "refresh_token")
