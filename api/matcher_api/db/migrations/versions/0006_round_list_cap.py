"""Guards against the curious agency (issue 12): a cap on the rows of one agency's list
(``rounds.max_list_rows``) and signal dates required inside the window
(``rounds.window_dates_required``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable cap and the window flag (existing rounds have neither)."""
    with op.batch_alter_table("rounds") as batch:
        batch.add_column(sa.Column("max_list_rows", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "window_dates_required", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    """Drop the cap and the flag."""
    with op.batch_alter_table("rounds") as batch:
        batch.drop_column("window_dates_required")
        batch.drop_column("max_list_rows")
