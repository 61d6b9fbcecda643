"""Activity lists to and from plain JSON-ready dicts (for files and the API), validated on read."""

from __future__ import annotations

from datetime import date
from typing import Any

from matcher.errors import ConfigError
from matcher.followup.model import Action, ActionStatus, CaseFollowUp, LadderStep, Outcome


def _day(v: Any, column: str, row: int | None) -> date | None:
    if v in (None, ""):
        return None
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise ConfigError("not a YYYY-MM-DD date", row=row, column=column) from None


def case_to_dict(case: CaseFollowUp) -> dict[str, Any]:
    """A case's follow-up as a dict of strings, lists and ISO dates."""

    def iso(d: date | None) -> str | None:
        return None if d is None else d.isoformat()

    return {
        "case_id": case.case_id,
        "round_id": case.round_id,
        "round_date": iso(case.round_date),
        "agencies": list(case.agencies),
        "earliest_signal": iso(case.earliest_signal),
        "meeting_date": iso(case.meeting_date),
        "step": None if case.step is None else str(case.step),
        "actions": [
            {
                "action_type": a.action_type,
                "agency": a.agency,
                "due": iso(a.due),
                "status": str(a.status),
                "done_on": iso(a.done_on),
            }
            for a in case.actions
        ],
        "follow_up_date": iso(case.follow_up_date),
        "outcome": str(case.outcome),
    }


def case_from_dict(d: dict[str, Any], row: int | None = None) -> CaseFollowUp:
    """Read back a case; an unknown category or a bad date is located without echoing the value."""
    try:
        actions = tuple(
            Action(
                str(a["action_type"]),
                str(a["agency"]),
                _day(a["due"], "due", row) or date.min,
                ActionStatus(a.get("status", "planned")),
                _day(a.get("done_on"), "done_on", row),
            )
            for a in d.get("actions", [])
        )
        return CaseFollowUp(
            case_id=str(d["case_id"]),
            round_id=str(d["round_id"]),
            round_date=_day(d["round_date"], "round_date", row) or date.min,
            agencies=tuple(str(a) for a in d["agencies"]),
            earliest_signal=_day(d.get("earliest_signal"), "earliest_signal", row),
            meeting_date=_day(d.get("meeting_date"), "meeting_date", row),
            step=None if d.get("step") is None else LadderStep(d["step"]),
            actions=actions,
            follow_up_date=_day(d.get("follow_up_date"), "follow_up_date", row),
            outcome=Outcome(d.get("outcome", "open")),
        )
    except KeyError as exc:
        raise ConfigError("a required field is missing", row=row, column=str(exc.args[0])) from None
    except ValueError:
        raise ConfigError("a category is not one of the allowed values", row=row) from None
