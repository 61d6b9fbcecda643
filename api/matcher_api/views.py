"""Turning stored rows and result blobs into the API's ``*Public`` models.

The coordinator's aggregates pass through :func:`suppress` so counts below the threshold show
as ``"<N"``.
"""

from __future__ import annotations

import io
import json
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from matcher_api import db
from matcher_api.schemas import (
    AgencyStatusPublic,
    AuditEventPublic,
    CombinationCount,
    Count,
    JobPublic,
    RoundPublic,
    RoundResultsPublic,
    UploadPublic,
)


def suppress(count: int, threshold: int) -> Count:
    """A count as shown to the coordinator: ``"<threshold"`` when below the threshold."""
    return f"<{threshold}" if count < threshold else count


def upload_public(info: db.UploadInfo) -> UploadPublic:
    """Upload metadata as returned by the API."""
    return UploadPublic(
        agency=info.agency,
        row_count=info.row_count,
        size_bytes=info.size_bytes,
        key_check=info.key_check,
        uploaded_at=info.uploaded_at,
    )


def job_public(job: db.MatchJob, threshold: int) -> JobPublic:
    """A matching job as returned by the API (its case count suppressed below ``threshold``)."""
    stats = json.loads(job.stats_json) if job.stats_json else None
    if stats is not None and isinstance(stats.get("cases"), int):
        stats["cases"] = suppress(stats["cases"], threshold)
    return JobPublic(
        round_id=job.round_id,
        status=job.status,
        requested_at=job.requested_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error,
        case_count=None if job.case_count is None else suppress(job.case_count, threshold),
        record_count=job.record_count,
        core_seconds=job.core_seconds,
        stats=stats,
    )


def round_public(session: Session, row: db.Round, threshold: int) -> RoundPublic:
    """A round with its agencies, upload metadata and latest job, for the coordinator."""
    uploads = db.upload_overview(session, row.id)
    job = db.latest_job(session, row.id)
    key_check = next(iter(uploads.values())).key_check if uploads else None
    return RoundPublic(
        id=row.id,
        name=row.name,
        legal_basis=row.legal_basis,
        k=row.k,
        window_from=row.window_from,
        window_to=row.window_to,
        disclosure_policy=row.disclosure_policy,
        kind=row.kind,
        retention_days=row.retention_days,
        max_list_rows=row.max_list_rows,
        window_dates_required=row.window_dates_required,
        created_at=row.created_at,
        expires_at=row.expires_at,
        key_check=key_check,
        agencies=[
            AgencyStatusPublic(
                label=agency.label,
                upload=upload_public(uploads[agency.label]) if agency.label in uploads else None,
            )
            for agency in db.round_agencies(session, row.id)
        ],
        job=None if job is None else job_public(job, threshold),
    )


def _envelope(fields: dict[str, Any], cases: pl.DataFrame) -> bytes:
    """A JSON object of ``fields`` plus a ``cases`` array written by polars (fast, long lists)."""
    head = json.dumps(fields, ensure_ascii=False)[:-1]
    separator = ", " if fields else ""
    return f'{head}{separator}"cases": {cases.write_json()}}}'.encode()


def agency_results_json(scope: db.AgencyScope, policy: str, content: bytes) -> bytes:
    """An agency's stored view as the JSON body of :class:`AgencyResultsPublic`."""
    frame = pl.read_ipc(io.BytesIO(content))
    if "strength" not in frame.columns:  # views stored before cases carried a strength
        frame = frame.with_columns(strength=pl.lit(None, pl.Utf8))
    frame = frame.select("case_id", "strength", "records", "others")
    fields = {"round_id": scope.round_id, "agency": scope.label, "disclosure_policy": policy}
    return _envelope(fields, frame)


def round_results_json(round_id: str, content: bytes, threshold: int) -> bytes:
    """The coordinator's case list with suppressed counts, as :class:`RoundResultsPublic` JSON."""
    frame = pl.read_ipc(io.BytesIO(content)).select("case_id", "agencies")
    by_size = frame.group_by(pl.col("agencies").list.len().alias("size")).len().sort("size").rows()
    by_combination = frame.group_by("agencies").len().sort("agencies").rows()
    fields = RoundResultsPublic(
        round_id=round_id,
        suppression_threshold=threshold,
        case_count=suppress(frame.height, threshold),
        cases_by_agency_count={str(size): suppress(n, threshold) for size, n in by_size},
        cases_by_combination=[
            CombinationCount(agencies=list(combo), cases=suppress(n, threshold))
            for combo, n in by_combination
        ],
        cases=[],
    ).model_dump(mode="json", exclude={"cases"})
    return _envelope(fields, frame)


def audit_public(event: db.AuditEvent) -> AuditEventPublic:
    """An audit event as returned by the API."""
    details: dict[str, Any] = json.loads(event.details or "{}")
    return AuditEventPublic(
        at=event.at,
        actor=event.actor,
        action=event.action,
        round_id=event.round_id,
        details=details,
    )
