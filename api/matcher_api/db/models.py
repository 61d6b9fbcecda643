"""SQLAlchemy tables of the coordinator service and the agency scope every agency query takes.

Agency isolation lives in the repository modules beside this one: every function an agency can
reach takes an :class:`AgencyScope` built from its token, never an agency id from the request.
The schema is created and versioned by the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
COORDINATOR = "coordinator"
COORDINATOR_TOKEN_KEY = "coordinator_token_hash"
# Set by a purge in its own transaction, cleared once its rows' bytes are scrubbed from the files.
SCRUB_PENDING_KEY = "scrub_pending"
JOB_ACTIVE = ("queued", "running")
KEY_CHECK_MAX = 128


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend and always returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware datetimes are stored as naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Stored naive UTC comes back aware."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable migration names)."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class ServiceState(Base):
    """Small key/value facts about the service itself (the coordinator token digest, a purge
    whose scrub is pending)."""

    __tablename__ = "service_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Round(Base):
    """One matching exercise: its legal basis, k, window, policy, retention and agencies."""

    __tablename__ = "rounds"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    k: Mapped[int] = mapped_column(Integer)
    window_from: Mapped[date | None]
    window_to: Mapped[date | None]
    disclosure_policy: Mapped[str] = mapped_column(String(40))
    # "signals" (cases for a meeting list) or "analysis" (aggregated statistics only).
    kind: Mapped[str] = mapped_column(String(16), default="signals", server_default="signals")
    retention_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: Most rows one agency's list may hold (None: no cap); bounds what a curious agency can
    #: learn by uploading its whole roster (issue 12, docs/privacy-attacks.md).
    max_list_rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Refuse a list with a row whose signal date is missing or outside the window (issue 12).
    window_dates_required: Mapped[bool] = mapped_column(Boolean, default=False)


class Agency(Base):
    """A participating agency of a round, with the digest of its upload token."""

    __tablename__ = "round_agencies"
    __table_args__ = (UniqueConstraint("round_id", "label", name="uq_round_agencies_round_label"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)


class Upload(Base):
    """An agency's current hashed file for a round (Parquet bytes: refs, tokens, encodings)."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("round_agencies.id", ondelete="CASCADE"), unique=True
    )
    row_count: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    key_check: Mapped[str] = mapped_column(String(KEY_CHECK_MAX))
    header_json: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # Names the parsed copy in the upload cache (see cache.py); random, new for every row.
    cache_key: Mapped[str | None] = mapped_column(String(32))


class RoundKey(Base):
    """The key check value and encoding parameters (a header) fixed by a round's first upload;
    one row per round, so that of two racing first uploads the database admits one."""

    __tablename__ = "round_keys"
    round_id: Mapped[str] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(Integer)
    key_check: Mapped[str] = mapped_column(String(KEY_CHECK_MAX))
    header_json: Mapped[str] = mapped_column(Text)


class MatchJob(Base):
    """One run of the linkage core for a round, with its recorded status."""

    __tablename__ = "match_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    case_count: Mapped[int | None]
    record_count: Mapped[int | None]
    core_seconds: Mapped[float | None] = mapped_column(Float)
    stats_json: Mapped[str | None] = mapped_column(Text)


class AgencyResult(Base):
    """One agency's view of the round's cases (Arrow IPC; only its own refs, policy applied)."""

    __tablename__ = "agency_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("round_agencies.id", ondelete="CASCADE"), unique=True
    )
    case_count: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class RoundResult(Base):
    """The coordinator's case list for a round (Arrow IPC: case id and agencies, no refs)."""

    __tablename__ = "round_results"
    round_id: Mapped[str] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    case_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    content: Mapped[bytes] = mapped_column(LargeBinary)


class AuditEvent(Base):
    """Who did what to which round, when, with counts (and a round's terms); no personal data.

    ``round_id`` is deliberately not a foreign key: the trail outlives a purged round.
    """

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    round_id: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")


ROUND_TABLES: tuple[type[Base], ...] = (
    AgencyResult,
    RoundResult,
    MatchJob,
    RoundKey,
    Upload,
    Agency,
)


@dataclass(frozen=True)
class AgencyScope:
    """What an agency token grants: one agency of one round. Built only from the token."""

    round_id: str
    agency_id: int
    label: str

    @property
    def actor(self) -> str:
        """The audit-log name of this agency."""
        return f"agency:{self.label}"
