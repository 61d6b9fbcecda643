"""Rounds: the coordinator opens, lists, inspects, matches and purges them."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool

from matcher_api import db, views
from matcher_api.deps import (
    CoordinatorRound,
    CurrentCoordinator,
    NowDep,
    ServicesDep,
    SessionDep,
    SettingsDep,
)
from matcher_api.errors import NotFoundError, UnprocessableError
from matcher_api.faults import crash_point
from matcher_api.schemas import (
    AgencyLabel,
    JobPublic,
    PurgePublic,
    RoundCreate,
    RoundCreated,
    RoundPublic,
    RoundsPublic,
    TokenPublic,
)

router = APIRouter(prefix="/rounds", tags=["rounds"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_round(
    body: RoundCreate,
    _: CurrentCoordinator,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> RoundCreated:
    """Open a round; each agency's upload token is in the response, this once."""
    retention = body.retention_days or settings.default_retention_days
    if retention > settings.max_retention_days:
        raise UnprocessableError(
            f"retention_days may be at most {settings.max_retention_days}", reason="retention"
        )
    row, tokens = db.create_round(
        session,
        round_id=body.id or f"round-{secrets.token_hex(4)}",
        name=body.name,
        legal_basis=body.legal_basis,
        k=body.k,
        window_from=body.window_from,
        window_to=body.window_to,
        disclosure_policy=body.disclosure_policy,
        kind=body.kind,
        retention_days=retention,
        agencies=body.agencies,
        now=now,
        max_list_rows=body.max_list_rows,
        window_dates_required=body.window_dates_required,
    )
    public = views.round_public(session, row, settings.small_count_threshold)
    session.commit()
    return RoundCreated(round=public, agency_tokens=tokens)


@router.get("")
def list_rounds(_: CurrentCoordinator, session: SessionDep, settings: SettingsDep) -> RoundsPublic:
    """Every live round with its status."""
    threshold = settings.small_count_threshold
    rounds = [views.round_public(session, r, threshold) for r in db.list_rounds(session)]
    return RoundsPublic(rounds=rounds)


@router.get("/{round_id}")
def get_round(
    round_row: CoordinatorRound, session: SessionDep, settings: SettingsDep
) -> RoundPublic:
    """A round's terms, agencies, uploads (metadata) and matching status."""
    return views.round_public(session, round_row, settings.small_count_threshold)


@router.delete("/{round_id}")
def purge_round(round_row: CoordinatorRound, session: SessionDep, now: NowDep) -> PurgePublic:
    """Purge a round now: its uploads, results, jobs and tokens are deleted, not flagged."""
    deleted = db.purge_round(
        session, round_row.id, actor=db.COORDINATOR, action="round.purge", now=now
    )
    session.commit()
    crash_point("purge.after_commit")
    return PurgePublic(round_ids=[round_row.id], deleted_rows=deleted)


@router.post("/{round_id}/match", status_code=status.HTTP_202_ACCEPTED)
async def start_match(round_row: CoordinatorRound, services: ServicesDep, now: NowDep) -> JobPublic:
    """Start matching in the background; poll ``GET /rounds/{round_id}/match`` for its status."""
    db.require_kind(round_row, "signals")  # an analysis round never becomes a case list

    def queue() -> db.MatchJob:
        """Record the queued job (in a worker thread: it touches the database)."""
        with db.transaction(services.factory) as session:
            return db.queue_match(session, round_row, now=now)

    job = await run_in_threadpool(queue)
    services.runner.submit(round_row.id, job.id)
    return views.job_public(job, services.settings.small_count_threshold)


@router.get("/{round_id}/match")
def match_status(
    round_row: CoordinatorRound, session: SessionDep, settings: SettingsDep
) -> JobPublic:
    """Status of the round's latest matching run (case count below the threshold as <N)."""
    job = db.latest_job(session, round_row.id)
    if job is None:
        raise NotFoundError("matching has not been started for this round")
    return views.job_public(job, settings.small_count_threshold)


@router.post("/{round_id}/agencies/{agency}/token")
def reissue_token(
    round_row: CoordinatorRound, agency: AgencyLabel, session: SessionDep, now: NowDep
) -> TokenPublic:
    """Give an agency a new upload token (the old one stops working); shown this once."""
    token = db.reissue_agency_token(session, round_row.id, agency, now=now)
    session.commit()
    return TokenPublic(agency=agency, token=token)
