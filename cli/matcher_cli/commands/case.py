"""`matcher case list|action|update|overdue|export`: the activity list kept per case.

Works on an activity-list file (JSON, categories and dates only). ``--agency`` restricts the view
and the updates to that agency's own cases and actions, as the service does; without it you act
as the coordinator.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from matcher.errors import ConfigError
from matcher_cli.console import console, reported_errors

if TYPE_CHECKING:
    from matcher.followup.model import CaseFollowUp

case_app = typer.Typer(help="The activity list per case: actions, statuses, overdue, export.")
FileArg = typer.Argument(..., help="Activity-list file (JSON).")
AgencyOpt = typer.Option(None, "--agency", help="Act as this agency (default: coordinator).")


def _load(path: Path) -> list[CaseFollowUp]:
    from matcher.followup.codec import case_from_dict

    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError("cannot read the activity-list file", file=path) from None
    return [case_from_dict(d, row=i + 1) for i, d in enumerate(rows)]


def _save(path: Path, cases: list[CaseFollowUp]) -> None:
    from matcher.followup.codec import case_to_dict

    path.write_text(json.dumps([case_to_dict(c) for c in cases], indent=1), encoding="utf-8")


@case_app.command("list")
def list_cases(path: Path = FileArg, agency: str | None = AgencyOpt) -> None:
    """Cases with their step, actions and outcome (an agency sees only its own)."""
    from matcher.followup.model import visible_to

    with reported_errors():
        table = Table("case", "round", "step", "actions", "done", "outcome")
        for c in visible_to(_load(path), agency):
            done = sum(a.status == "done" for a in c.actions)
            table.add_row(
                c.case_id,
                c.round_id,
                str(c.step or "-"),
                str(len(c.actions)),
                str(done),
                str(c.outcome),
            )
        console.print(table)


@case_app.command("action")
def add_action(
    path: Path = FileArg,
    case_id: str = typer.Option(..., "--case"),
    action_type: str = typer.Option(..., "--type"),
    agency: str = typer.Option(..., "--responsible"),
    due: str = typer.Option(..., "--due", help="YYYY-MM-DD"),
) -> None:
    """Coordinator: add an agreed action to a case."""
    from dataclasses import replace

    from matcher.followup.model import DEFAULT_ACTION_TYPES, Action, check_action

    with reported_errors():
        cases = _load(path)
        idx = [i for i, c in enumerate(cases) if c.case_id == case_id]
        if not idx:
            raise ConfigError("no such case", column="case")
        try:
            day = date.fromisoformat(due)
        except ValueError:
            raise ConfigError("not a YYYY-MM-DD date", column="due") from None
        action = Action(action_type, agency, day)
        check_action(action, cases[idx[0]], DEFAULT_ACTION_TYPES)
        cases[idx[0]] = replace(cases[idx[0]], actions=(*cases[idx[0]].actions, action))
        _save(path, cases)
        console.print(f"action {len(cases[idx[0]].actions)} added")


@case_app.command("update")
def update(
    path: Path = FileArg,
    case_id: str = typer.Option(..., "--case"),
    index: int = typer.Option(..., "--action", help="Action number (1-based)."),
    status: str = typer.Option(..., "--status"),
    agency: str | None = AgencyOpt,
) -> None:
    """Set an action's status (an agency only on its own actions, on its own cases)."""
    from matcher.followup.model import ActionStatus, update_action, visible_to

    with reported_errors():
        cases = _load(path)
        mine = {c.case_id for c in visible_to(cases, agency)}
        if case_id not in mine:
            raise ConfigError("no such case", column="case")
        try:
            new_status = ActionStatus(status)
        except ValueError:
            raise ConfigError("unknown status", column="status") from None
        i = next(i for i, c in enumerate(cases) if c.case_id == case_id)
        cases[i] = update_action(cases[i], index - 1, agency, new_status, date.today())
        _save(path, cases)
        console.print("updated")


@case_app.command("overdue")
def overdue_cmd(path: Path = FileArg, agency: str | None = AgencyOpt) -> None:
    """Actions past their due date that are neither done nor cancelled."""
    from matcher.followup.model import overdue, visible_to

    with reported_errors():
        table = Table("case", "action", "agency", "due", "status")
        for cid, _, a in overdue(visible_to(_load(path), agency), date.today()):
            table.add_row(cid, a.action_type, a.agency, str(a.due), str(a.status))
        console.print(table)


@case_app.command("export")
def export(
    path: Path = FileArg, out: Path = typer.Option(..., "--out"), agency: str | None = AgencyOpt
) -> None:
    """The activity list and its overdue actions as an Excel workbook."""
    from matcher.followup.model import visible_to
    from matcher.followup.outputs import write_activity_xlsx

    with reported_errors():
        write_activity_xlsx(visible_to(_load(path), agency), out, date.today())
        console.print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Attach `matcher case ...`."""
    app.add_typer(case_app, name="case")
