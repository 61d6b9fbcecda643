"""Follow-up storage: one row per case's activity list and one per agreed action.

Only categories, agency labels and dates are stored (no free text, no refs, no personal data).
Access is enforced here, once: the coordinator (``scope=None``) sees and edits everything of a
round; an agency scope sees only cases its agency is part of and only its own actions, and may
change only the status of those actions.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import (
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from matcher.errors import ConfigError
from matcher.followup.model import (
    ACTION_TYPE_LABELS,
    Action,
    ActionStatus,
    CaseFollowUp,
    LadderStep,
    Outcome,
    check_action,
    update_action,
    visible_to,
)
from matcher.followup.suppression import PublishedCell
from matcher_api.db.jobs import case_list
from matcher_api.db.models import AgencyScope, Base, UTCDateTime
from matcher_api.errors import ForbiddenError, NotFoundError, UnprocessableError


class CaseFollowUpRow(Base):
    """A case's follow-up record in a round: dates and categories only."""

    __tablename__ = "case_followups"
    round_id: Mapped[str] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agencies: Mapped[str] = mapped_column(String(400))
    round_date: Mapped[date] = mapped_column(Date)
    earliest_signal: Mapped[date | None] = mapped_column(Date, nullable=True)
    meeting_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    step: Mapped[str | None] = mapped_column(String(32), nullable=True)
    follow_up_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str] = mapped_column(String(32))


class FollowUpActionRow(Base):
    """One agreed action of a case: type, responsible agency label, due date, status."""

    __tablename__ = "followup_actions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["round_id", "case_id"],
            ["case_followups.round_id", "case_followups.case_id"],
            ondelete="CASCADE",
        ),
    )
    round_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_type: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(64))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class ActionTypeRow(Base):
    """One action type of the coordinator's configured list: a code and its (Swedish) label."""

    __tablename__ = "action_types"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)


class PublishedCellRow(Base):
    """A count a follow-up report showed: the atoms it sums (JSON) and the value shown.

    Atoms are (round, agency combination, indicator flags) or (round, agency): no case ids.
    """

    __tablename__ = "published_cells"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ledger: Mapped[str] = mapped_column(String(16), index=True)
    period: Mapped[str] = mapped_column(Text)
    atoms: Mapped[str] = mapped_column(Text)
    value: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


FOLLOWUP_TABLES: tuple[type[Base], ...] = (FollowUpActionRow, CaseFollowUpRow)
"""Round-scoped follow-up tables, children first, for purging with the round."""


def _to_model(row: CaseFollowUpRow, actions: list[FollowUpActionRow]) -> CaseFollowUp:
    return CaseFollowUp(
        case_id=row.case_id,
        round_id=row.round_id,
        round_date=row.round_date,
        agencies=tuple(row.agencies.split(",")),
        earliest_signal=row.earliest_signal,
        meeting_date=row.meeting_date,
        step=None if row.step is None else LadderStep(row.step),
        actions=tuple(
            Action(a.action_type, a.agency, a.due, ActionStatus(a.status), a.done_on)
            for a in sorted(actions, key=lambda a: a.position)
        ),
        follow_up_date=row.follow_up_date,
        outcome=Outcome(row.outcome),
    )


def _load(session: Session, round_ids: list[str]) -> list[CaseFollowUp]:
    rows = session.scalars(
        select(CaseFollowUpRow)
        .where(CaseFollowUpRow.round_id.in_(round_ids))
        .order_by(CaseFollowUpRow.round_id, CaseFollowUpRow.case_id)
    ).all()
    acts = session.scalars(
        select(FollowUpActionRow).where(FollowUpActionRow.round_id.in_(round_ids))
    ).all()
    by_case: dict[tuple[str, str], list[FollowUpActionRow]] = {}
    for a in acts:
        by_case.setdefault((a.round_id, a.case_id), []).append(a)
    return [_to_model(r, by_case.get((r.round_id, r.case_id), [])) for r in rows]


def followups(
    session: Session, round_ids: list[str], scope: AgencyScope | None
) -> list[CaseFollowUp]:
    """The rounds' activity lists as ``scope`` may see them (``None``: the coordinator)."""
    if scope is not None and round_ids != [scope.round_id]:
        raise ForbiddenError("this token belongs to another round", reason="wrong_round")
    return visible_to(_load(session, round_ids), None if scope is None else scope.label)


def followup_rounds(session: Session) -> list[str]:
    """Every round that has follow-up records (the population one report ledger covers)."""
    return list(
        session.scalars(
            select(CaseFollowUpRow.round_id).distinct().order_by(CaseFollowUpRow.round_id)
        )
    )


def action_types(session: Session) -> dict[str, str]:
    """The configured action types (code -> label), in order; the default list if none is set."""
    rows = session.scalars(select(ActionTypeRow).order_by(ActionTypeRow.position)).all()
    return {r.code: r.label for r in rows} if rows else dict(ACTION_TYPE_LABELS)


def set_action_types(session: Session, types: Mapping[str, str]) -> None:
    """Coordinator: replace the configured action types (recorded actions keep their type)."""
    session.execute(delete(ActionTypeRow))
    for i, (code, label) in enumerate(types.items()):
        session.add(ActionTypeRow(code=code, label=label, position=i))
    session.flush()


def round_cases(session: Session, round_id: str) -> dict[str, tuple[str, ...]]:
    """The round's cases as the last match found them: case id -> agency labels (404 before)."""
    frame = pl.read_ipc(io.BytesIO(case_list(session, round_id))).select("case_id", "agencies")
    return {cid: tuple(agencies) for cid, agencies in frame.iter_rows()}


def save_followup(session: Session, case: CaseFollowUp) -> None:
    """Coordinator: create or replace a case's follow-up and its actions (validated first)."""
    types = tuple(action_types(session))
    try:
        for a in case.actions:
            check_action(a, case, types)
    except ConfigError as exc:
        raise UnprocessableError(str(exc), reason="invalid_action") from None
    session.execute(
        delete(FollowUpActionRow).where(
            FollowUpActionRow.round_id == case.round_id, FollowUpActionRow.case_id == case.case_id
        )
    )
    session.merge(
        CaseFollowUpRow(
            round_id=case.round_id,
            case_id=case.case_id,
            agencies=",".join(case.agencies),
            round_date=case.round_date,
            earliest_signal=case.earliest_signal,
            meeting_date=case.meeting_date,
            step=None if case.step is None else str(case.step),
            follow_up_date=case.follow_up_date,
            outcome=str(case.outcome),
        )
    )
    session.flush()
    for i, a in enumerate(case.actions):
        session.add(
            FollowUpActionRow(
                round_id=case.round_id,
                case_id=case.case_id,
                position=i,
                action_type=a.action_type,
                agency=a.agency,
                due=a.due,
                status=str(a.status),
                done_on=a.done_on,
            )
        )


def set_action_status(
    session: Session,
    round_id: str,
    case_id: str,
    position: int,
    scope: AgencyScope | None,
    status: ActionStatus,
    today: date,
) -> CaseFollowUp:
    """Change one action's status; an agency only its own action on its own case (else 404)."""
    cases = [c for c in followups(session, [round_id], None) if c.case_id == case_id]
    label = None if scope is None else scope.label
    if not cases or (label is not None and label not in cases[0].agencies):
        raise NotFoundError("no such case in this round")
    try:
        new = update_action(cases[0], position, label, status, today)
    except ConfigError:
        raise NotFoundError("no such action for this caller") from None
    row = session.get(FollowUpActionRow, (round_id, case_id, position))
    assert row is not None
    row.status = str(new.actions[position].status)
    row.done_on = new.actions[position].done_on
    mine = visible_to([new], label)[0]
    return replace(mine)


def _atom(value: Any) -> Any:
    """An atom read back from JSON: lists become the tuples they were."""
    return tuple(value) if isinstance(value, list) else value


def published_cells(session: Session) -> dict[str, list[PublishedCell]]:
    """Every count earlier follow-up reports showed, per ledger."""
    out: dict[str, list[PublishedCell]] = {}
    for row in session.scalars(select(PublishedCellRow).order_by(PublishedCellRow.id)):
        atoms = frozenset(_atom(a) for a in json.loads(row.atoms))
        out.setdefault(row.ledger, []).append(PublishedCell(atoms, row.value))
    return out


def remember_published(
    session: Session,
    published: Mapping[str, Sequence[PublishedCell]],
    *,
    period: Sequence[str],
    now: datetime,
) -> int:
    """Store the counts a report showed (those not stored already); returns how many were new."""
    known = {(r.ledger, r.atoms, r.value) for r in session.scalars(select(PublishedCellRow))}
    added = 0
    for ledger, cells in published.items():
        for cell in cells:
            atoms = json.dumps(
                sorted((list(a) if isinstance(a, tuple) else a for a in cell.atoms), key=repr)
            )
            if (ledger, atoms, cell.value) in known:
                continue
            known.add((ledger, atoms, cell.value))
            session.add(
                PublishedCellRow(
                    ledger=ledger,
                    period=",".join(period),
                    atoms=atoms,
                    value=cell.value,
                    published_at=now,
                )
            )
            added += 1
    return added


def forget_published(session: Session, round_id: str) -> int:
    """Delete the stored published cells that count a round's cases or records (with the
    round: its atoms are gone, so those cells can never hold again)."""
    gone = 0
    for row in session.scalars(select(PublishedCellRow)):
        if any(isinstance(a, list) and a and a[0] == round_id for a in json.loads(row.atoms)):
            session.delete(row)
            gone += 1
    return gone


def purge_followups(session: Session, round_id: str) -> None:
    """Delete a round's follow-up rows (with the round, on expiry or on request)."""
    for table in FOLLOWUP_TABLES:
        session.execute(delete(table).where(table.round_id == round_id))  # type: ignore[attr-defined]
