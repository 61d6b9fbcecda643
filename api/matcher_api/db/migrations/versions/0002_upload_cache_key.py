"""Uploads name their parsed copy in the upload cache (``uploads.cache_key``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable cache key (existing uploads have none: decoded from the database)."""
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("cache_key", sa.String(32), nullable=True))


def downgrade() -> None:
    """Drop the cache key."""
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("cache_key")
