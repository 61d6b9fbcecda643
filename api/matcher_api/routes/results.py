"""Results: each agency reads only its own view; the coordinator reads the case list."""

from __future__ import annotations

from fastapi import APIRouter, Response

from matcher_api import db, views
from matcher_api.deps import CoordinatorRound, CurrentAgency, NowDep, SessionDep, SettingsDep
from matcher_api.schemas import AgencyResultsPublic, RoundResultsPublic

router = APIRouter(prefix="/rounds/{round_id}/results", tags=["results"])

# Result lists can hold many thousand cases: their JSON is written by polars straight from the
# stored view (same shape as the response model, which still documents it).


@router.get("", response_model=RoundResultsPublic)
def round_results(
    round_row: CoordinatorRound, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    """The coordinator's view: case ids and agencies (no refs), counts below the threshold as <N."""
    db.require_kind(round_row, "signals")
    body = views.round_results_json(
        round_row.id, db.case_list(session, round_row.id), settings.small_count_threshold
    )
    db.record_audit(
        session, actor=db.COORDINATOR, action="results.read", round_id=round_row.id, now=now
    )
    session.commit()
    return Response(body, media_type="application/json")


@router.get("/own", response_model=AgencyResultsPublic)
def own_results(agency: CurrentAgency, session: SessionDep, now: NowDep) -> Response:
    """The calling agency's view: its own refs per case and who else flagged the child."""
    round_row = db.get_round(session, agency.round_id, now=now)
    db.require_kind(round_row, "signals")
    content, case_count = db.own_results(session, agency)
    body = views.agency_results_json(agency, round_row.disclosure_policy, content)
    db.record_audit(
        session,
        actor=agency.actor,
        action="results.read",
        round_id=agency.round_id,
        now=now,
        cases=case_count,
    )
    session.commit()
    return Response(body, media_type="application/json")
