"""Turning stored rows and result blobs into the API's ``*Public`` models.

The coordinator's aggregates pass through :func:`suppress` so counts below the threshold show
as ``"<N"``.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from matcher_api import store
from matcher_api.schemas import (
    AgencyCasePublic,
    AgencyResultsPublic,
    AgencyStatusPublic,
    AuditEventPublic,
    CasePublic,
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


def upload_public(info: store.UploadInfo) -> UploadPublic:
    """Upload metadata as returned by the API."""
    return UploadPublic(
        agency=info.agency,
        row_count=info.row_count,
        size_bytes=info.size_bytes,
        key_check=info.key_check,
        uploaded_at=info.uploaded_at,
    )


def job_public(job: store.MatchJob) -> JobPublic:
    """A matching job as returned by the API."""
    return JobPublic(
        round_id=job.round_id,
        status=job.status,  # type: ignore[arg-type]
        requested_at=job.requested_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error,
        case_count=job.case_count,
        record_count=job.record_count,
        core_seconds=job.core_seconds,
        stats=json.loads(job.stats_json) if job.stats_json else None,
    )


def round_public(session: Session, row: store.Round) -> RoundPublic:
    """A round with its agencies, upload metadata and latest job, for the coordinator."""
    uploads = store.upload_overview(session, row.id)
    job = store.latest_job(session, row.id)
    key_check = next(iter(uploads.values())).key_check if uploads else None
    return RoundPublic(
        id=row.id,
        name=row.name,
        legal_basis=row.legal_basis,
        k=row.k,
        window_from=row.window_from,
        window_to=row.window_to,
        disclosure_policy=row.disclosure_policy,  # type: ignore[arg-type]
        retention_days=row.retention_days,
        created_at=row.created_at,
        expires_at=row.expires_at,
        key_check=key_check,
        agencies=[
            AgencyStatusPublic(
                label=agency.label,
                upload=upload_public(uploads[agency.label]) if agency.label in uploads else None,
            )
            for agency in store.round_agencies(session, row.id)
        ],
        job=None if job is None else job_public(job),
    )


def agency_results_public(
    scope: store.AgencyScope, policy: str, content: bytes
) -> AgencyResultsPublic:
    """An agency's stored view as returned by the API."""
    frame = pl.read_parquet(io.BytesIO(content))
    return AgencyResultsPublic(
        round_id=scope.round_id,
        agency=scope.label,
        disclosure_policy=policy,  # type: ignore[arg-type]
        cases=[AgencyCasePublic.model_validate(row) for row in frame.iter_rows(named=True)],
    )


def round_results_public(round_id: str, content: bytes, threshold: int) -> RoundResultsPublic:
    """The coordinator's case list with suppressed counts by size and by agency combination."""
    frame = pl.read_parquet(io.BytesIO(content))
    cases = [CasePublic.model_validate(row) for row in frame.iter_rows(named=True)]
    by_size = Counter(len(case.agencies) for case in cases)
    by_combination = Counter(tuple(case.agencies) for case in cases)
    return RoundResultsPublic(
        round_id=round_id,
        suppression_threshold=threshold,
        case_count=suppress(len(cases), threshold),
        cases_by_agency_count={
            str(size): suppress(count, threshold) for size, count in sorted(by_size.items())
        },
        cases_by_combination=[
            CombinationCount(agencies=list(combo), cases=suppress(count, threshold))
            for combo, count in sorted(by_combination.items())
        ],
        cases=cases,
    )


def audit_public(event: store.AuditEvent) -> AuditEventPublic:
    """An audit event as returned by the API."""
    counts: dict[str, Any] = json.loads(event.counts or "{}")
    return AuditEventPublic(
        at=event.at, actor=event.actor, action=event.action, round_id=event.round_id, counts=counts
    )
