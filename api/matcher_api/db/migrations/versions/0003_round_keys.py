"""A round's key check value and encoding parameters, fixed by its first upload (``round_keys``).

One row per round, its primary key the round id: of two first uploads racing with different
keys, the database lets exactly one in (issue 13 item 3), where a check-then-insert let both.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table and fill it from each round's earliest current upload."""
    op.create_table(
        "round_keys",
        sa.Column(
            "round_id",
            sa.String(64),
            sa.ForeignKey("rounds.id", ondelete="CASCADE", name="fk_round_keys_round_id_rounds"),
            primary_key=True,
        ),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("key_check", sa.String(128), nullable=False),
        sa.Column("header_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("round_id", name="pk_round_keys"),
    )
    op.execute(
        "INSERT INTO round_keys (round_id, agency_id, key_check, header_json) "
        "SELECT u.round_id, u.agency_id, u.key_check, u.header_json FROM uploads u "
        "WHERE u.id = (SELECT MIN(v.id) FROM uploads v WHERE v.round_id = u.round_id)"
    )


def downgrade() -> None:
    """Drop the table (the uploads keep their own key check values)."""
    op.drop_table("round_keys")
