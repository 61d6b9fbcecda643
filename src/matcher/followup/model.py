"""The activity list kept per case after a round's meeting: categories and dates only.

A case's follow-up is keyed by its case id and holds the meeting date, the step reached on the
collaboration ladder (Laholm), the agreed actions (a configurable list of action types, each with
a responsible agency, a due date and a status), a follow-up date and an outcome category. There is
no free-text field anywhere on purpose: notes stay in each agency's own records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from matcher.errors import ConfigError


class RoundKind(StrEnum):
    """What a round is for: a meeting list of cases, or aggregated statistics only."""

    SIGNALS = "signals"
    ANALYSIS = "analysis"


def accepts_list(kind: RoundKind, list_kind: str) -> bool:
    """Whether a round of ``kind`` takes a hashed file whose header says ``list_kind``.

    A signal round takes signal lists only; an analysis round takes signal lists and outcome
    lists (the outcome list is what its statistics are about).
    """
    return list_kind == "signals" or (kind is RoundKind.ANALYSIS and list_kind == "outcomes")


class LadderStep(StrEnum):
    """Laholm's collaboration ladder, lowest first."""

    CONVERSATION = "conversation"
    SHARED_VIEW = "shared_view"
    COLLABORATION = "collaboration"
    JOINT_ACTION = "joint_action"


class ActionStatus(StrEnum):
    """Where an agreed action stands."""

    PLANNED = "planned"
    ONGOING = "ongoing"
    DONE = "done"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    """Outcome category recorded at follow-up (no reasons, no narrative)."""

    OPEN = "open"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    WORSENED = "worsened"
    PLACEMENT = "placement"
    MOVED = "moved"
    CLOSED = "closed"


ACTION_TYPE_LABELS: dict[str, str] = {
    "home_visit": "Hembesök",
    "school_meeting": "Möte på skolan",
    "pupil_health_contact": "Kontakt med elevhälsan",
    "social_services_assessment": "Utredning inom socialtjänsten",
    "leisure_activity": "Fritidsaktivitet",
    "police_concern_talk": "Orosamtal med polisen",
    "family_support": "Familjestöd",
    "mentor": "Mentor",
    "referral_child_psychiatry": "Remiss till BUP",
    "sip_meeting": "Samordnad individuell plan (SIP)",
    "report_of_concern": "Orosanmälan",
}
"""The default action types: stable codes (as the ladder and outcome codes) with Swedish labels;
the coordinator's configured list replaces it."""

DEFAULT_ACTION_TYPES: tuple[str, ...] = tuple(ACTION_TYPE_LABELS)


@dataclass(frozen=True)
class Action:
    """One agreed action: its type, the responsible agency, a due date, a status."""

    action_type: str
    agency: str
    due: date
    status: ActionStatus = ActionStatus.PLANNED
    done_on: date | None = None

    def overdue(self, today: date) -> bool:
        """Past its due date and neither done nor cancelled."""
        return self.status in (ActionStatus.PLANNED, ActionStatus.ONGOING) and today > self.due

    def done_in_time(self) -> bool:
        """Done on or before its due date."""
        return (
            self.status is ActionStatus.DONE
            and self.done_on is not None
            and self.done_on <= self.due
        )


@dataclass(frozen=True)
class CaseFollowUp:
    """The follow-up record of one case in one round; ``agencies`` are the agencies in the case."""

    case_id: str
    round_id: str
    round_date: date
    agencies: tuple[str, ...]
    earliest_signal: date | None = None
    meeting_date: date | None = None
    step: LadderStep | None = None
    actions: tuple[Action, ...] = field(default_factory=tuple)
    follow_up_date: date | None = None
    outcome: Outcome = Outcome.OPEN


def check_action(action: Action, case: CaseFollowUp, action_types: Sequence[str]) -> None:
    """Refuse an action of unknown type, for an agency outside the case, or done without a date."""
    if action.action_type not in action_types:
        raise ConfigError("unknown action type; see the configured list", column="action_type")
    if action.agency not in case.agencies:
        raise ConfigError("the responsible agency is not part of this case", column="agency")
    if (action.status is ActionStatus.DONE) != (action.done_on is not None):
        raise ConfigError("done_on is set exactly when the status is done", column="done_on")


def overdue(cases: Iterable[CaseFollowUp], today: date) -> list[tuple[str, int, Action]]:
    """Every overdue action as ``(case_id, index, action)``, oldest due date first."""
    found = [(c.case_id, i, a) for c in cases for i, a in enumerate(c.actions) if a.overdue(today)]
    return sorted(found, key=lambda t: (t[2].due, t[0], t[1]))


def visible_to(cases: Iterable[CaseFollowUp], agency: str | None) -> list[CaseFollowUp]:
    """The view of one agency (its own cases, its own actions); ``None`` is the coordinator."""
    if agency is None:
        return list(cases)
    return [
        replace(c, actions=tuple(a for a in c.actions if a.agency == agency))
        for c in cases
        if agency in c.agencies
    ]


def update_action(
    case: CaseFollowUp, index: int, agency: str | None, status: ActionStatus, on: date | None
) -> CaseFollowUp:
    """Set an action's status; an agency may touch only actions it is responsible for."""
    if not 0 <= index < len(case.actions):
        raise ConfigError("no such action on this case", column="action")
    action = case.actions[index]
    if agency is not None and action.agency != agency:
        raise ConfigError("an agency may update only its own actions", column="agency")
    done_on = on if status is ActionStatus.DONE else None
    new = replace(action, status=status, done_on=done_on)
    return replace(case, actions=(*case.actions[:index], new, *case.actions[index + 1 :]))
