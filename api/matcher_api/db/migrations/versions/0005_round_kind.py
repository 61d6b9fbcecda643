"""Round kind, the configured action types and the follow-up report's published cells (issue 10).

``rounds.kind`` is ``signals`` (cases for a meeting list) or ``analysis`` (aggregated statistics
only); existing rounds are signal rounds. ``action_types`` is the coordinator's list of action
types (empty: the built-in default list applies). ``published_cells`` remembers what follow-up
reports have shown, so a later report cannot be subtracted from an earlier one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add rounds.kind; create action_types (with the defaults) and published_cells."""
    with op.batch_alter_table("rounds") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="signals"))
    op.create_table(
        "action_types",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "published_cells",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ledger", sa.String(16), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("atoms", sa.Text(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_published_cells_ledger", "published_cells", ["ledger"])


def downgrade() -> None:
    """Drop published_cells and action_types; remove rounds.kind."""
    op.drop_index("ix_published_cells_ledger", "published_cells")
    op.drop_table("published_cells")
    op.drop_table("action_types")
    with op.batch_alter_table("rounds") as batch:
        batch.drop_column("kind")
