"""Initial schema: rounds, agencies, uploads, jobs, results, audit log, service state.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _round_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["round_id"], ["rounds.id"], name=f"fk_{table}_round_id_rounds", ondelete="CASCADE"
    )


def _agency_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["agency_id"],
        ["round_agencies.id"],
        name=f"fk_{table}_agency_id_round_agencies",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Create every table of the service."""
    op.create_table(
        "service_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_service_state"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("round_id", sa.String(64), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_round_id", "audit_events", ["round_id"])
    op.create_table(
        "rounds",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("window_from", sa.Date(), nullable=True),
        sa.Column("window_to", sa.Date(), nullable=True),
        sa.Column("disclosure_policy", sa.String(40), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rounds"),
    )
    op.create_index("ix_rounds_expires_at", "rounds", ["expires_at"])
    op.create_table(
        "round_agencies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _round_fk("round_agencies"),
        sa.PrimaryKeyConstraint("id", name="pk_round_agencies"),
        sa.UniqueConstraint("round_id", "label", name="uq_round_agencies_round_label"),
        sa.UniqueConstraint("token_hash", name="uq_round_agencies_token_hash"),
    )
    op.create_index("ix_round_agencies_round_id", "round_agencies", ["round_id"])
    op.create_table(
        "match_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("case_count", sa.Integer(), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=True),
        sa.Column("core_seconds", sa.Float(), nullable=True),
        sa.Column("stats_json", sa.Text(), nullable=True),
        _round_fk("match_jobs"),
        sa.PrimaryKeyConstraint("id", name="pk_match_jobs"),
    )
    op.create_index("ix_match_jobs_round_id", "match_jobs", ["round_id"])
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.String(64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("key_check", sa.String(128), nullable=False),
        sa.Column("header_json", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _round_fk("uploads"),
        _agency_fk("uploads"),
        sa.PrimaryKeyConstraint("id", name="pk_uploads"),
        sa.UniqueConstraint("agency_id", name="uq_uploads_agency_id"),
    )
    op.create_index("ix_uploads_round_id", "uploads", ["round_id"])
    op.create_table(
        "agency_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.String(64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _round_fk("agency_results"),
        _agency_fk("agency_results"),
        sa.PrimaryKeyConstraint("id", name="pk_agency_results"),
        sa.UniqueConstraint("agency_id", name="uq_agency_results_agency_id"),
    )
    op.create_index("ix_agency_results_round_id", "agency_results", ["round_id"])
    op.create_table(
        "round_results",
        sa.Column("round_id", sa.String(64), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _round_fk("round_results"),
        sa.PrimaryKeyConstraint("round_id", name="pk_round_results"),
    )


def downgrade() -> None:
    """Drop every table of the service."""
    for table in (
        "round_results",
        "agency_results",
        "uploads",
        "match_jobs",
        "round_agencies",
        "rounds",
        "audit_events",
        "service_state",
    ):
        op.drop_table(table)
