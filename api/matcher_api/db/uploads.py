"""Agency uploads: header checks, replacement in a transaction, metadata and streaming reads."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    delete,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from matcher.errors import KeyMismatchError
from matcher.followup.model import RoundKind, accepts_list
from matcher.steward.hashed_file import HashedFileHeader, check_compatible
from matcher_api.db.audit import record_audit
from matcher_api.db.engine import upload_cache
from matcher_api.db.jobs import active_job, lock_round, mark_stale
from matcher_api.db.models import (
    KEY_CHECK_MAX,
    Agency,
    AgencyResult,
    AgencyScope,
    Round,
    RoundKey,
    RoundResult,
    Upload,
)
from matcher_api.errors import ConflictError, UnprocessableError


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
    round_row = session.get(Round, scope.round_id)
    if round_row is not None and not accepts_list(RoundKind(round_row.kind), header.list_kind):
        raise UnprocessableError(
            f"the file's header says list_kind {header.list_kind!r}, but this is a "
            f"{round_row.kind} round: outcome lists belong to analysis rounds only "
            "(hash signal lists without --outcomes)",
            reason="list_kind",
        )
    cap = round_row.max_list_rows if round_row is not None else None
    if cap is not None and header.row_count > cap:
        raise UnprocessableError(
            f"the list holds {header.row_count} rows, more than this round's cap of {cap} rows "
            "per agency; upload only the children with a signal in the round's window",
            reason="list_cap",
        )
    if active_job(session, scope.round_id) is not None:
        raise ConflictError("matching is running for this round; upload again when it has ended")
    fix_parameters(session, scope, header)


#: An upload this many times larger than the agency's previous list, or than the median of the
#: other agencies' lists, is flagged (audit entry and a warning in the response): the signature
#: of an agency uploading its whole roster to learn the other lists (docs/privacy-attacks.md).
LARGE_UPLOAD_FACTOR = 3
#: Lists below this many rows are never flagged (small municipalities' lists vary a lot).
LARGE_UPLOAD_MIN_ROWS = 200


def required_window(session: Session, round_id: str) -> tuple[date | None, date | None] | None:
    """The round's window when it requires every signal date inside it, else None."""
    row = session.get(Round, round_id)
    if row is None or not row.window_dates_required:
        return None
    return row.window_from, row.window_to


def unusual_size(session: Session, scope: AgencyScope, rows: int, *, now: datetime) -> str | None:
    """A warning (and an ``upload.large`` audit entry, counts only) when ``rows`` is far more
    than the agency's previous upload or the other agencies' median list in this round."""
    if rows < LARGE_UPLOAD_MIN_ROWS:
        return None
    counts = session.execute(
        select(Upload.agency_id, Upload.row_count).where(Upload.round_id == scope.round_id)
    ).all()
    own = [c for a, c in counts if a == scope.agency_id]
    others = sorted(c for a, c in counts if a != scope.agency_id)
    usual = own[0] if own else (others[len(others) // 2] if others else None)
    if usual is None or rows <= LARGE_UPLOAD_FACTOR * max(usual, 1):
        return None
    record_audit(
        session,
        actor=scope.actor,
        action="upload.large",
        round_id=scope.round_id,
        now=now,
        rows=rows,
        usual_rows=usual,
    )
    return (
        f"this list holds {rows} rows, more than {LARGE_UPLOAD_FACTOR} times the usual "
        f"{usual}; the coordinator has been notified"
    )


def fix_parameters(session: Session, scope: AgencyScope, header: HashedFileHeader) -> None:
    """Fix the round's key check value and encoding parameters with its first upload, or check
    this upload against them (409 if they differ).

    The round's ``round_keys`` row is inserted by the first upload (of two racing first uploads
    the database admits one; the other waits for it and is then checked against it) and locked
    by later ones, so that a replacement by the only agency that has uploaded, which may change
    them, cannot race another agency's first upload.
    """
    values = {
        "round_id": scope.round_id,
        "agency_id": scope.agency_id,
        "key_check": header.key_check,
        "header_json": header.model_dump_json(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    # Waits for a racing first upload to commit (or roll back), then inserts or does nothing.
    inserted = session.execute(insert(RoundKey).values(**values).on_conflict_do_nothing())
    if int(inserted.rowcount or 0) == 1:  # type: ignore[attr-defined]
        return
    fixed = session.execute(
        select(RoundKey)
        .where(RoundKey.round_id == scope.round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    try:
        check_compatible([HashedFileHeader.model_validate_json(fixed.header_json), header])
    except KeyMismatchError as exc:
        others = session.scalars(
            select(Upload.id)
            .where(Upload.round_id == scope.round_id, Upload.agency_id != scope.agency_id)
            .limit(1)
        ).first()
        if others is not None:
            raise ConflictError(str(exc), reason=exc.reason) from None
        # Only this agency has uploaded: its new file fixes the parameters anew.
        fixed.agency_id = scope.agency_id
        fixed.key_check = header.key_check
        fixed.header_json = header.model_dump_json()
        session.flush()


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
    lock_round(session, scope.round_id)  # before the checks: see a match that just finished
    check_upload(session, scope, header)
    previous = session.scalars(
        select(Upload.cache_key).where(Upload.agency_id == scope.agency_id)
    ).all()
    session.execute(delete(Upload).where(Upload.agency_id == scope.agency_id))
    stale = session.execute(delete(AgencyResult).where(AgencyResult.round_id == scope.round_id))
    session.execute(delete(RoundResult).where(RoundResult.round_id == scope.round_id))
    mark_stale(session, scope.round_id)
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


def upload_records(session: Session, round_ids: Sequence[str]) -> dict[tuple[str, str], int]:
    """Records uploaded per (round, agency label): the follow-up report's records table."""
    rows = session.execute(
        select(Agency.round_id, Agency.label, Upload.row_count)
        .join(Upload, Upload.agency_id == Agency.id)
        .where(Agency.round_id.in_(list(round_ids)))
    ).all()
    return {(r, label): int(n) for r, label, n in rows}


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
