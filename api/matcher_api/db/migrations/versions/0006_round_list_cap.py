"""Rounds may cap the rows of one agency's list (``rounds.max_list_rows``, issue 12).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable cap (existing rounds have none)."""
    with op.batch_alter_table("rounds") as batch:
        batch.add_column(sa.Column("max_list_rows", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop the cap."""
    with op.batch_alter_table("rounds") as batch:
        batch.drop_column("max_list_rows")
