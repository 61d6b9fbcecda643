"""Matching jobs and their results: queue, status, the per-agency views and the case list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from matcher_api.db.audit import record_audit
from matcher_api.db.models import (
    COORDINATOR,
    JOB_ACTIVE,
    AgencyResult,
    AgencyScope,
    MatchJob,
    Round,
    RoundResult,
    Upload,
)
from matcher_api.errors import ConflictError, NotFoundError


def lock_round(session: Session, round_id: str) -> Round | None:
    """Lock a round until the transaction ends, by a write that changes nothing; None if it is
    gone. Replacing an upload, storing a match's results and purging take this lock first, so
    each reads what the others committed: an upload that began before a match finished still
    marks its results stale. A write, not SELECT ... FOR UPDATE: SQLite ignores that, and its
    driver reads outside the transaction until the first write."""
    locked = session.execute(update(Round).where(Round.id == round_id).values(name=Round.name))
    if int(locked.rowcount or 0) == 0:  # type: ignore[attr-defined]
        return None
    return session.get(Round, round_id, populate_existing=True)


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


def advance_job(session: Session, job_id: int, current: str, status: str, **values: Any) -> bool:
    """Move a job from ``current`` to ``status`` (and record ``values``) only if it is still in
    ``current``; False if it is not (a restarted service failed it, a new upload made it
    stale): a worker that outlived its service can never overwrite what came after it."""
    result = session.execute(
        update(MatchJob)
        .where(MatchJob.id == job_id, MatchJob.status == current)
        .values(status=status, **values)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def upload_generation(session: Session, round_id: str) -> list[tuple[Any, ...]]:
    """What identifies a round's current uploads (row, parsed copy, time, size, key check):
    different as soon as any agency has replaced its file."""
    rows = session.execute(
        select(Upload.agency_id, Upload.id, Upload.cache_key, Upload.uploaded_at, Upload.size_bytes)
        .where(Upload.round_id == round_id)
        .order_by(Upload.agency_id)
    ).all()
    return [tuple(row) for row in rows]


STALE_MESSAGE = "an agency uploaded a new file after this match; its results were removed"


def mark_stale(session: Session, round_id: str) -> int:
    """Mark a round's finished jobs stale: a new upload has removed their results."""
    result = session.execute(
        update(MatchJob)
        .where(MatchJob.round_id == round_id, MatchJob.status == "done")
        .values(status="stale", error=STALE_MESSAGE)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
