"""Results: each agency reads only its own view; the coordinator reads the case list."""

from __future__ import annotations

from fastapi import APIRouter

from matcher_api import store, views
from matcher_api.deps import CoordinatorRound, CurrentAgency, NowDep, SessionDep, SettingsDep
from matcher_api.schemas import AgencyResultsPublic, RoundResultsPublic

router = APIRouter(prefix="/rounds/{round_id}/results", tags=["results"])


@router.get("")
def round_results(
    round_row: CoordinatorRound, session: SessionDep, settings: SettingsDep, now: NowDep
) -> RoundResultsPublic:
    """The coordinator's view: case ids and agencies (no refs), counts below the threshold as <N."""
    public = views.round_results_public(
        round_row.id, store.case_list(session, round_row.id), settings.small_count_threshold
    )
    store.record_audit(
        session, actor=store.COORDINATOR, action="results.read", round_id=round_row.id, now=now
    )
    session.commit()
    return public


@router.get("/own")
def own_results(agency: CurrentAgency, session: SessionDep, now: NowDep) -> AgencyResultsPublic:
    """The calling agency's view: its own refs per case and who else flagged the child."""
    round_row = store.get_round(session, agency.round_id, now=now)
    public = views.agency_results_public(
        agency, round_row.disclosure_policy, store.own_results(session, agency)
    )
    store.record_audit(
        session,
        actor=agency.actor,
        action="results.read",
        round_id=agency.round_id,
        now=now,
        cases=len(public.cases),
    )
    session.commit()
    return public
