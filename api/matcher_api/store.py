"""Persistence: SQLAlchemy 2 tables and the repository functions the routes and jobs call.

Agency isolation lives here: every function an agency can reach takes an :class:`AgencyScope`
built from its token, never an agency id from the request, so no route can name another agency.
The schema is created and versioned by the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool

from matcher.errors import KeyMismatchError
from matcher.steward.hashed_file import HashedFileHeader, check_compatible
from matcher_api.cache import UploadCache
from matcher_api.errors import ConflictError, NotFoundError, UnprocessableError
from matcher_api.security import hash_token, new_token

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
COORDINATOR = "coordinator"
COORDINATOR_TOKEN_KEY = "coordinator_token_hash"
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
    """Small key/value facts about the service itself (the coordinator token digest)."""

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
    retention_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


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


# --- engine, sessions, migrations -----------------------------------------------------------


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA page_size=65536")  # large pages: uploads are multi-megabyte blobs
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints run in the background (checkpoint()); this is only the safety net (256 MiB).
    cursor.execute("PRAGMA wal_autocheckpoint=4096")
    cursor.close()


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine for a SQLite or PostgreSQL URL (SQLite: directory created, WAL, foreign keys)."""
    kwargs: dict[str, Any] = {}
    if not pooled:
        kwargs["poolclass"] = NullPool
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def checkpoint(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database file without blocking anyone.

    Done in the background so that uploads do not pay for it; a no-op on PostgreSQL.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def session_factory(engine: Engine, cache: UploadCache | None = None) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit; its sessions carry the upload
    cache, so that replacing or purging an upload also removes its parsed copy."""
    return sessionmaker(engine, expire_on_commit=False, info={"upload_cache": cache})


def upload_cache(session: Session) -> UploadCache | None:
    """The upload cache of a session's factory (None: no cache)."""
    cache: UploadCache | None = session.info.get("upload_cache")
    return cache


def _alembic(engine: Engine, step: Callable[[Config], None]) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config)


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to an Alembic revision, the newest by default (creates it if empty)."""
    _alembic(engine, lambda config: command.upgrade(config, revision))


def downgrade_database(engine: Engine, revision: str = "base") -> None:
    """Take the schema back to an Alembic revision (``base``: drop every table)."""
    _alembic(engine, lambda config: command.downgrade(config, revision))


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


# --- audit -----------------------------------------------------------------------------------


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    round_id: str | None,
    now: datetime,
    **details: int | str,
) -> None:
    """Append an audit event (counts, labels, a round's terms) to the current transaction."""
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action=action,
            round_id=round_id,
            details=json.dumps(details, sort_keys=True, ensure_ascii=False),
        )
    )


def list_audit(session: Session, *, round_id: str | None, limit: int) -> Sequence[AuditEvent]:
    """The newest audit events, optionally for one round."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if round_id is not None:
        query = query.where(AuditEvent.round_id == round_id)
    return session.scalars(query).all()


# --- coordinator token -----------------------------------------------------------------------


def stored_coordinator_hash(session: Session) -> str | None:
    """The digest of a generated coordinator token, if one was generated."""
    state = session.get(ServiceState, COORDINATOR_TOKEN_KEY)
    return None if state is None else state.value


def ensure_coordinator_token(
    session: Session, *, configured: bool, rotate: bool = False
) -> str | None:
    """Generate and store (hashed) a coordinator token if none exists; return it once, else None."""
    if configured:
        return None
    state = session.get(ServiceState, COORDINATOR_TOKEN_KEY)
    if state is not None and not rotate:
        return None
    token = new_token()
    if state is None:
        session.add(ServiceState(key=COORDINATOR_TOKEN_KEY, value=hash_token(token)))
    else:
        state.value = hash_token(token)
    return token


# --- rounds ----------------------------------------------------------------------------------


def create_round(
    session: Session,
    *,
    round_id: str,
    name: str,
    legal_basis: str,
    k: int,
    window_from: date | None,
    window_to: date | None,
    disclosure_policy: str,
    retention_days: int,
    agencies: Sequence[str],
    now: datetime,
) -> tuple[Round, dict[str, str]]:
    """Create a round and one upload token per agency; the plain tokens are returned once."""
    if session.get(Round, round_id) is not None:
        raise ConflictError("a round with this id already exists", reason="round_exists")
    row = Round(
        id=round_id,
        name=name,
        legal_basis=legal_basis,
        k=k,
        window_from=window_from,
        window_to=window_to,
        disclosure_policy=disclosure_policy,
        retention_days=retention_days,
        created_at=now,
        expires_at=now + timedelta(days=retention_days),
    )
    session.add(row)
    session.flush()
    tokens: dict[str, str] = {}
    for label in agencies:
        token = new_token()
        tokens[label] = token
        session.add(Agency(round_id=round_id, label=label, token_hash=hash_token(token)))
    session.flush()
    record_audit(
        session,
        actor=COORDINATOR,
        action="round.create",
        round_id=round_id,
        now=now,
        agencies=len(agencies),
        k=k,
        policy=disclosure_policy,
        legal_basis=legal_basis,
        retention_days=retention_days,
    )
    return row, tokens


def get_round(session: Session, round_id: str, *, now: datetime) -> Round:
    """A live round; an expired one is purged on the spot (committed) and reported as not found."""
    row = session.get(Round, round_id)
    if row is not None and row.expires_at <= now:
        purge_round(session, round_id, actor="service", action="round.expire", now=now)
        session.commit()
        row = None
    if row is None:
        raise NotFoundError("no such round (it may have expired or been purged)")
    return row


def list_rounds(session: Session) -> Sequence[Round]:
    """All rounds, newest first."""
    return session.scalars(select(Round).order_by(Round.created_at.desc(), Round.id)).all()


def round_agencies(session: Session, round_id: str) -> Sequence[Agency]:
    """The agencies of a round, by label."""
    return session.scalars(
        select(Agency).where(Agency.round_id == round_id).order_by(Agency.label)
    ).all()


def reissue_agency_token(session: Session, round_id: str, label: str, *, now: datetime) -> str:
    """Replace an agency's upload token (the old one stops working); return the new one once."""
    agency = session.scalars(
        select(Agency).where(Agency.round_id == round_id, Agency.label == label)
    ).first()
    if agency is None:
        raise NotFoundError("no agency with this label takes part in the round")
    token = new_token()
    agency.token_hash = hash_token(token)
    record_audit(session, actor=COORDINATOR, action="token.reissue", round_id=round_id, now=now)
    return token


def round_row_counts(session: Session, round_id: str) -> dict[str, int]:
    """How many rows each round-owned table holds for a round (used by purge and tests)."""
    counts = {}
    for table in (*ROUND_TABLES, Round):
        column = table.id if table is Round else table.round_id  # type: ignore[attr-defined]
        counts[table.__tablename__] = session.scalar(
            select(func.count()).select_from(table).where(column == round_id)
        )
    return counts


def purge_round(
    session: Session, round_id: str, *, actor: str, action: str, now: datetime
) -> dict[str, int]:
    """Delete a round and everything it owns (uploads, results, jobs, tokens) and the parsed
    copies of its uploads; audit it."""
    cached = session.scalars(select(Upload.cache_key).where(Upload.round_id == round_id)).all()
    deleted: dict[str, int] = {}
    for table in ROUND_TABLES:
        result = session.execute(delete(table).where(table.round_id == round_id))  # type: ignore[attr-defined]
        deleted[table.__tablename__] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = session.execute(delete(Round).where(Round.id == round_id))
    deleted["rounds"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    record_audit(
        session,
        actor=actor,
        action=action,
        round_id=round_id,
        now=now,
        uploads=deleted["uploads"],
        results=deleted["agency_results"] + deleted["round_results"],
    )
    # Before the commit: should it fail, the uploads are still in the database and are
    # decoded from there; the parsed copies must not outlive a purge.
    cache = upload_cache(session)
    if cache is not None:
        cache.remove(cached)
    return deleted


def purge_expired(factory: sessionmaker[Session], *, now: datetime) -> list[str]:
    """Purge every round past its retention period, each in its own transaction."""
    with factory() as session:
        expired = session.scalars(select(Round.id).where(Round.expires_at <= now)).all()
    for round_id in expired:
        with transaction(factory) as session:
            purge_round(session, round_id, actor="service", action="round.expire", now=now)
    return list(expired)


# --- uploads ---------------------------------------------------------------------------------


def check_upload(session: Session, scope: AgencyScope, header: HashedFileHeader) -> None:
    """Refuse a hashed file that is not for this round and agency, or that disagrees (key check
    value, encoding parameters) with the other agencies' current uploads; the first upload
    fixes them. Only the header is needed."""
    if header.round_id != scope.round_id:
        raise UnprocessableError(
            f"the file was hashed for another round than {scope.round_id!r}; "
            "hash again with the right --round",
            reason="round_mismatch",
        )
    if header.agency != scope.label:
        raise UnprocessableError(
            f"the file was hashed for another agency, but this token is for {scope.label!r}; "
            "hash again with the right --agency",
            reason="agency_mismatch",
        )
    if not re.fullmatch(rf"[0-9a-fA-F]{{1,{KEY_CHECK_MAX}}}", header.key_check):
        raise UnprocessableError(
            f"the key check value must be 1 to {KEY_CHECK_MAX} hex digits", reason="key_check"
        )
    if active_job(session, scope.round_id) is not None:
        raise ConflictError("matching is running for this round; upload again when it has ended")
    other = session.scalars(
        select(Upload.header_json)
        .where(Upload.round_id == scope.round_id, Upload.agency_id != scope.agency_id)
        .limit(1)
    ).first()
    if other is not None:
        try:
            check_compatible([HashedFileHeader.model_validate_json(other), header])
        except KeyMismatchError as exc:
            raise ConflictError(str(exc), reason=exc.reason) from None


def replace_upload(
    session: Session,
    scope: AgencyScope,
    header: HashedFileHeader,
    content: bytes,
    *,
    now: datetime,
    cache_key: str | None = None,
) -> Upload:
    """Store an agency's hashed file, replacing its previous one within the caller's transaction.

    The header is checked first (:func:`check_upload`); the caller validates the columns. The
    previous upload's parsed copy is removed from the cache.
    """
    check_upload(session, scope, header)
    previous = session.scalars(
        select(Upload.cache_key).where(Upload.agency_id == scope.agency_id)
    ).all()
    session.execute(delete(Upload).where(Upload.agency_id == scope.agency_id))
    stale = session.execute(delete(AgencyResult).where(AgencyResult.round_id == scope.round_id))
    session.execute(delete(RoundResult).where(RoundResult.round_id == scope.round_id))
    upload = Upload(
        round_id=scope.round_id,
        agency_id=scope.agency_id,
        row_count=header.row_count,
        size_bytes=len(content),
        key_check=header.key_check,
        header_json=header.model_dump_json(),
        uploaded_at=now,
        content=content,
        cache_key=cache_key,
    )
    session.add(upload)
    session.flush()
    cache = upload_cache(session)
    if cache is not None and previous:
        # Once committed (a rolled-back replacement keeps the old upload, and its copy).
        event.listen(session, "after_commit", lambda _: cache.remove(previous), once=True)
    record_audit(
        session,
        actor=scope.actor,
        action="upload",
        round_id=scope.round_id,
        now=now,
        rows=header.row_count,
        bytes=len(content),
        stale_results=int(stale.rowcount or 0),  # type: ignore[attr-defined]
    )
    return upload


@dataclass(frozen=True)
class UploadInfo:
    """What is known about an agency's upload, without its content."""

    agency: str
    row_count: int
    size_bytes: int
    key_check: str
    uploaded_at: datetime


def own_upload(session: Session, scope: AgencyScope) -> UploadInfo | None:
    """The calling agency's current upload (metadata only)."""
    row = session.execute(
        select(Upload.row_count, Upload.size_bytes, Upload.key_check, Upload.uploaded_at).where(
            Upload.agency_id == scope.agency_id
        )
    ).first()
    return None if row is None else UploadInfo(scope.label, *row)


def upload_overview(session: Session, round_id: str) -> dict[str, UploadInfo]:
    """Upload metadata per agency label for the coordinator (no content)."""
    rows = session.execute(
        select(
            Agency.label, Upload.row_count, Upload.size_bytes, Upload.key_check, Upload.uploaded_at
        )
        .join(Upload, Upload.agency_id == Agency.id)
        .where(Agency.round_id == round_id)
    ).all()
    return {row[0]: UploadInfo(*row) for row in rows}


def load_uploads(session: Session, round_id: str) -> list[tuple[Agency, str, bytes]]:
    """Every current upload of a round: agency, stored header (JSON) and file bytes, by label."""
    rows = session.execute(
        select(Agency, Upload.header_json, Upload.content)
        .join(Upload, Upload.agency_id == Agency.id)
        .where(Agency.round_id == round_id)
        .order_by(Agency.label)
    ).all()
    return [(agency, header, content) for agency, header, content in rows]


@dataclass(frozen=True)
class StoredUpload:
    """A current upload of a round, without its content: what the match job needs first."""

    label: str
    agency_id: int
    header_json: str
    cache_key: str | None


def round_uploads(session: Session, round_id: str) -> list[StoredUpload]:
    """Every current upload of a round (no content), by label."""
    rows = session.execute(
        select(Agency.label, Agency.id, Upload.header_json, Upload.cache_key)
        .join(Upload, Upload.agency_id == Agency.id)
        .where(Agency.round_id == round_id)
        .order_by(Agency.label)
    ).all()
    return [StoredUpload(*row) for row in rows]


def cache_keys(session: Session) -> set[str]:
    """The cache keys of every stored upload (the parsed copies that may be kept)."""
    keys = session.scalars(select(Upload.cache_key).where(Upload.cache_key.is_not(None))).all()
    return {key for key in keys if key is not None}


def stream_uploads(
    session: Session, round_id: str, agency_ids: Sequence[int] | None = None
) -> Iterator[tuple[str, int, str, bytes]]:
    """Current uploads of a round (all, or those of ``agency_ids``), one row at a time (label,
    agency id, stored header JSON, file bytes), so a caller can decode one while the next is
    read; one query, one snapshot."""
    statement = (
        select(Agency.label, Agency.id, Upload.header_json, Upload.content)
        .join(Upload, Upload.agency_id == Agency.id)
        .where(Agency.round_id == round_id)
        .order_by(Agency.label)
    )
    if agency_ids is not None:
        statement = statement.where(Agency.id.in_(list(agency_ids)))
    if session.get_bind().dialect.driver == "psycopg":
        yield from _stream_binary(session, statement)
        return
    rows = session.execute(statement.execution_options(yield_per=1))
    for label, agency_id, header, content in rows:  # noqa: UP028 (Row -> plain tuple)
        yield label, agency_id, header, content


def _stream_binary(session: Session, statement: Any) -> Iterator[tuple[str, int, str, bytes]]:
    """PostgreSQL: the rows through a server-side cursor in binary format (bytea as raw bytes,
    not hex text: a quarter of the time for multi-megabyte uploads)."""
    connection = session.connection()
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    driver: Any = connection.connection.driver_connection
    with driver.cursor(name="matcher_stream_uploads", binary=True) as cursor:
        cursor.itersize = 1
        cursor.execute(str(compiled), compiled.params)
        for label, agency_id, header, content in cursor:
            yield label, agency_id, header, bytes(content)


# --- matching jobs ---------------------------------------------------------------------------


def active_job(session: Session, round_id: str) -> MatchJob | None:
    """The queued or running job of a round, if any."""
    return session.scalars(
        select(MatchJob).where(MatchJob.round_id == round_id, MatchJob.status.in_(JOB_ACTIVE))
    ).first()


def latest_job(session: Session, round_id: str) -> MatchJob | None:
    """The most recent job of a round."""
    return session.scalars(
        select(MatchJob).where(MatchJob.round_id == round_id).order_by(MatchJob.id.desc()).limit(1)
    ).first()


def queue_match(session: Session, round_row: Round, *, now: datetime) -> MatchJob:
    """Record a queued matching job after checking that enough agencies have uploaded."""
    if active_job(session, round_row.id) is not None:
        raise ConflictError("matching is already queued or running for this round")
    uploaded = session.scalar(
        select(func.count()).select_from(Upload).where(Upload.round_id == round_row.id)
    )
    needed = max(2, round_row.k)
    if (uploaded or 0) < needed:
        raise ConflictError(
            f"only {uploaded} agencies have uploaded; matching needs at least {needed}",
            reason="too_few_uploads",
        )
    job = MatchJob(round_id=round_row.id, status="queued", requested_at=now)
    session.add(job)
    session.flush()
    record_audit(
        session,
        actor=COORDINATOR,
        action="match.start",
        round_id=round_row.id,
        now=now,
        uploads=int(uploaded or 0),
    )
    return job


def set_job_status(session: Session, job_id: int, status: str, **values: Any) -> None:
    """Update a job's status and recorded fields."""
    session.execute(update(MatchJob).where(MatchJob.id == job_id).values(status=status, **values))


def fail_interrupted_jobs(session: Session, *, now: datetime) -> int:
    """Mark jobs left queued or running by a stopped service as failed."""
    result = session.execute(
        update(MatchJob)
        .where(MatchJob.status.in_(JOB_ACTIVE))
        .values(status="failed", finished_at=now, error="interrupted by a service restart")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def store_results(
    session: Session,
    round_id: str,
    *,
    agency_views: dict[int, tuple[int, bytes]],
    case_list: tuple[int, bytes],
    now: datetime,
) -> None:
    """Replace a round's results: one view per agency id plus the coordinator's case list."""
    session.execute(delete(AgencyResult).where(AgencyResult.round_id == round_id))
    session.execute(delete(RoundResult).where(RoundResult.round_id == round_id))
    for agency_id, (count, content) in agency_views.items():
        session.add(
            AgencyResult(round_id=round_id, agency_id=agency_id, case_count=count, content=content)
        )
    count, content = case_list
    session.add(RoundResult(round_id=round_id, case_count=count, created_at=now, content=content))


def own_results(session: Session, scope: AgencyScope) -> tuple[bytes, int]:
    """The calling agency's own result view (IPC bytes, case count); the only way agencies
    read results."""
    row = session.execute(
        select(AgencyResult.content, AgencyResult.case_count).where(
            AgencyResult.agency_id == scope.agency_id
        )
    ).first()
    if row is None:
        raise NotFoundError("no results for this round yet; ask the coordinator to run matching")
    return row[0], row[1]


def case_list(session: Session, round_id: str) -> bytes:
    """The coordinator's case list for a round (IPC bytes, no refs)."""
    content = session.scalars(
        select(RoundResult.content).where(RoundResult.round_id == round_id)
    ).first()
    if content is None:
        raise NotFoundError("no results for this round yet; start matching first")
    return content
