"""Follow-up tables: the activity list per case and its actions (issue 10).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create case_followups and followup_actions (categories and dates only)."""
    op.create_table(
        "case_followups",
        sa.Column("round_id", sa.String(64), sa.ForeignKey("rounds.id", ondelete="CASCADE")),
        sa.Column("case_id", sa.String(64)),
        sa.Column("agencies", sa.String(400), nullable=False),
        sa.Column("round_date", sa.Date(), nullable=False),
        sa.Column("earliest_signal", sa.Date(), nullable=True),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("step", sa.String(32), nullable=True),
        sa.Column("follow_up_date", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("round_id", "case_id"),
    )
    op.create_table(
        "followup_actions",
        sa.Column("round_id", sa.String(64)),
        sa.Column("case_id", sa.String(64)),
        sa.Column("position", sa.Integer()),
        sa.Column("action_type", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("round_id", "case_id", "position"),
        sa.ForeignKeyConstraint(
            ["round_id", "case_id"],
            ["case_followups.round_id", "case_followups.case_id"],
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    """Drop the follow-up tables."""
    op.drop_table("followup_actions")
    op.drop_table("case_followups")
