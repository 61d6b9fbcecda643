"""Follow-up: the coordinator keeps each case's activity list; agencies update their own actions.

Categories and dates only: the request models have no free-text field, and case ids, action
types and agency labels are short codes. Reports are suppressed aggregates (no case ids).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from matcher.followup.model import (
    Action,
    ActionStatus,
    CaseFollowUp,
    LadderStep,
    Outcome,
    overdue,
)
from matcher.followup.report import build_report
from matcher_api import db
from matcher_api.deps import (
    CoordinatorRound,
    CurrentAgency,
    CurrentCoordinator,
    NowDep,
    Principal,
    SessionDep,
    SettingsDep,
)
from matcher_api.errors import NotFoundError, UnprocessableError

router = APIRouter(tags=["followup"])

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
CaseIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ActionIn(BaseModel):
    """An agreed action: type from the configured list, responsible agency, due date, status."""

    model_config = ConfigDict(extra="forbid")
    action_type: Code
    agency: Code
    due: date
    status: ActionStatus = ActionStatus.PLANNED
    done_on: date | None = None


class FollowUpIn(BaseModel):
    """A case's follow-up record (no free text anywhere).

    The case's agencies are the round's results' (given, they must be the same); the round
    date defaults to the day the round was opened.
    """

    model_config = ConfigDict(extra="forbid")
    agencies: list[Code] | None = Field(None, min_length=1, max_length=20)
    round_date: date | None = None
    earliest_signal: date | None = None
    meeting_date: date | None = None
    step: LadderStep | None = None
    actions: list[ActionIn] = Field(default_factory=list, max_length=50)
    follow_up_date: date | None = None
    outcome: Outcome = Outcome.OPEN


Label = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f<>]+$")]


class ActionTypePublic(BaseModel):
    """One configured action type: its code (used in actions) and its label."""

    model_config = ConfigDict(extra="forbid")
    code: Code
    label: Label


class ActionTypesIn(BaseModel):
    """The coordinator's list of action types, in the order it is offered."""

    model_config = ConfigDict(extra="forbid")
    action_types: list[ActionTypePublic] = Field(min_length=1, max_length=100)


class ActionTypesPublic(BaseModel):
    """The configured action types (the default Swedish list until the coordinator sets one)."""

    action_types: list[ActionTypePublic]


class StatusIn(BaseModel):
    """A new status for one action."""

    model_config = ConfigDict(extra="forbid")
    status: ActionStatus


class ActionPublic(BaseModel):
    """An action as stored: type, responsible agency, due date, status, date done."""

    action_type: str
    agency: str
    due: date
    status: ActionStatus
    done_on: date | None = None


class FollowUpPublic(BaseModel):
    """A case's activity list (an agency's view holds only its own actions)."""

    case_id: str
    round_id: str
    round_date: date
    agencies: list[str]
    earliest_signal: date | None = None
    meeting_date: date | None = None
    step: LadderStep | None = None
    actions: list[ActionPublic]
    follow_up_date: date | None = None
    outcome: Outcome


class FollowUpListPublic(BaseModel):
    """The activity lists a caller may see."""

    cases: list[FollowUpPublic]


class OverduePublic(BaseModel):
    """One overdue action (1-based number within its case)."""

    case_id: str
    action: int
    action_type: str
    agency: str
    due: date
    status: ActionStatus


class OverdueListPublic(BaseModel):
    """Actions past due that are neither done nor cancelled, oldest first."""

    actions: list[OverduePublic]


class FollowUpReportPublic(BaseModel):
    """Suppressed follow-up report: '<N' below the threshold, 'x' withheld to protect one."""

    threshold: int
    within_days: int
    rounds: list[str]
    tables: dict[str, dict[str, dict[str, int | str]]]
    shares: dict[str, dict[str, float | None]]
    times: dict[str, dict[str, dict[str, int | str | None]]]
    note: str


class AnalysisGroupPublic(BaseModel):
    """One group's aggregates: '<N' below the threshold, 'x' withheld to protect one."""

    children: int | str
    signal_at: dict[str, int | str]
    two_or_more_agencies: int | str
    months_histogram: dict[str, int | str]
    months_quartiles: dict[str, int | float | str | None]
    months_quartiles_per_agency: dict[str, dict[str, int | float | str | None]]
    orders: list[dict[str, int | str]]
    measure: str


class AnalysisPublic(BaseModel):
    """Aggregated statistics of an analysis round: never a case, key or list of children."""

    threshold: int
    agencies: list[str]
    bins_months: list[str]
    outcome: AnalysisGroupPublic
    comparison: AnalysisGroupPublic


def _public(case: CaseFollowUp) -> FollowUpPublic:
    from matcher.followup.codec import case_to_dict

    return FollowUpPublic.model_validate(case_to_dict(case))


@router.put("/rounds/{round_id}/followup/{case_id}", response_model=FollowUpPublic)
def put_followup(
    round_row: CoordinatorRound, case_id: CaseIdPath, body: FollowUpIn, session: SessionDep
) -> FollowUpPublic:
    """Coordinator: create or replace a case's activity list (404 if the round has no such case)."""
    agencies = db.round_cases(session, round_row.id).get(case_id)
    if agencies is None:
        raise NotFoundError("the round's results have no case with this id")
    if body.agencies is not None and sorted(body.agencies) != sorted(agencies):
        raise UnprocessableError(
            "the agencies given are not the case's agencies in the round's results",
            reason="agencies",
        )
    case = CaseFollowUp(
        case_id=case_id,
        round_id=round_row.id,
        round_date=body.round_date or round_row.created_at.date(),
        agencies=tuple(sorted(agencies)),
        earliest_signal=body.earliest_signal,
        meeting_date=body.meeting_date,
        step=body.step,
        actions=tuple(
            Action(a.action_type, a.agency, a.due, a.status, a.done_on) for a in body.actions
        ),
        follow_up_date=body.follow_up_date,
        outcome=body.outcome,
    )
    db.save_followup(session, case)
    session.commit()
    return _public(case)


@router.get("/rounds/{round_id}/followup", response_model=FollowUpListPublic)
def list_followup(round_row: CoordinatorRound, session: SessionDep) -> FollowUpListPublic:
    """Coordinator: every case's activity list in the round."""
    return FollowUpListPublic(
        cases=[_public(c) for c in db.followups(session, [round_row.id], None)]
    )


@router.get("/rounds/{round_id}/followup/own", response_model=FollowUpListPublic)
def own_followup(agency: CurrentAgency, session: SessionDep) -> FollowUpListPublic:
    """Agency: its own cases, with only the actions it is responsible for."""
    return FollowUpListPublic(
        cases=[_public(c) for c in db.followups(session, [agency.round_id], agency)]
    )


@router.get("/rounds/{round_id}/followup/overdue", response_model=OverdueListPublic)
def overdue_followup(
    round_row: CoordinatorRound, session: SessionDep, now: NowDep
) -> OverdueListPublic:
    """Coordinator: actions past due that are neither done nor cancelled."""
    cases = db.followups(session, [round_row.id], None)
    return OverdueListPublic.model_validate(
        {
            "actions": [
                {
                    "case_id": cid,
                    "action": i + 1,
                    "action_type": a.action_type,
                    "agency": a.agency,
                    "due": a.due.isoformat(),
                    "status": str(a.status),
                }
                for cid, i, a in overdue(cases, now.date())
            ]
        }
    )


@router.patch(
    "/rounds/{round_id}/followup/own/{case_id}/actions/{number}", response_model=FollowUpPublic
)
def agency_update(
    agency: CurrentAgency,
    case_id: CaseIdPath,
    number: Annotated[int, Path(ge=1, le=50)],
    body: StatusIn,
    session: SessionDep,
    now: NowDep,
) -> FollowUpPublic:
    """Agency: set the status of one of its own actions (404 for anything not its own)."""
    case = db.set_action_status(
        session, agency.round_id, case_id, number - 1, agency, body.status, now.date()
    )
    session.commit()
    return _public(case)


@router.get("/followup/action-types", response_model=ActionTypesPublic)
def get_action_types(_: Principal, session: SessionDep) -> ActionTypesPublic:
    """The configured action types (coordinator and agencies alike: they are no secret)."""
    types = db.action_types(session)
    return ActionTypesPublic(
        action_types=[ActionTypePublic(code=c, label=label) for c, label in types.items()]
    )


@router.put("/followup/action-types", response_model=ActionTypesPublic)
def put_action_types(
    _: CurrentCoordinator, body: ActionTypesIn, session: SessionDep, now: NowDep
) -> ActionTypesPublic:
    """Coordinator: replace the list of action types new actions are checked against."""
    codes = [t.code for t in body.action_types]
    if len(set(codes)) != len(codes):
        raise UnprocessableError("an action type code is listed twice", reason="duplicate")
    db.set_action_types(session, {t.code: t.label for t in body.action_types})
    db.record_audit(
        session,
        actor=db.COORDINATOR,
        action="action_types.set",
        round_id=None,
        now=now,
        count=len(codes),
    )
    session.commit()
    return ActionTypesPublic(action_types=body.action_types)


@router.get("/followup/report", response_model=FollowUpReportPublic)
def followup_report(
    _: CurrentCoordinator,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    rounds: Annotated[list[str], Query(min_length=1, max_length=100)],
    within_days: Annotated[int, Query(ge=0, le=365)] = 30,
) -> FollowUpReportPublic:
    """Coordinator: the suppressed follow-up report, the rows of the rounds named (JSON)."""
    # Suppression is decided over every round with follow-up, then only the rounds asked for
    # are shown: two overlapping reports are parts of one safe publication. What earlier
    # reports showed is stored and joins it, so a report after an edit is safe against them.
    every = db.followup_rounds(session)
    cases = db.followups(session, every, None)
    if not any(c.round_id in rounds for c in cases):
        raise UnprocessableError("no follow-up recorded in these rounds", reason="empty")
    report = build_report(
        cases,
        records=db.upload_records(session, every),
        within_days=within_days,
        threshold=settings.small_count_threshold,
        show_rounds=rounds,
        prior=db.published_cells(session),
    )
    db.remember_published(session, report.published, period=sorted(set(rounds)), now=now)
    db.record_audit(
        session,
        actor=db.COORDINATOR,
        action="followup.report",
        round_id=None,
        now=now,
        rounds=len(set(rounds)),
    )
    session.commit()
    return FollowUpReportPublic.model_validate(report.body)


@router.post("/rounds/{round_id}/analysis", response_model=AnalysisPublic)
def round_analysis(
    round_row: CoordinatorRound, session: SessionDep, settings: SettingsDep, now: NowDep
) -> AnalysisPublic:
    """Coordinator: link the round's signal lists and outcome list, return aggregates only."""
    db.require_kind(round_row, "analysis")
    from matcher.followup.analysis import analyse_hashed
    from matcher.steward.hashed_file import read_hashed

    files = [read_hashed(content) for _, _, content in db.load_uploads(session, round_row.id)]
    if not files:
        raise UnprocessableError("no uploads in this round yet", reason="empty")
    result = analyse_hashed(files, threshold=settings.small_count_threshold)
    db.record_audit(
        session, actor=db.COORDINATOR, action="analysis.read", round_id=round_row.id, now=now
    )
    session.commit()
    return AnalysisPublic.model_validate(result)
