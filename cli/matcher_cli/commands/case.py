"""`matcher case list|record|action|update|overdue|export|types`: the activity list per case.

Talks to the coordinator service (``--server``/``MATCHER_SERVER``, ``--token``/``MATCHER_TOKEN``);
the token decides who you are. With the coordinator's token you see and edit every case of a
round; with an agency's token, pass ``--own``: you see only your own cases and, in them, only the
actions you are responsible for, and you may change only their status. The service enforces it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from matcher.errors import ConfigError
from matcher.followup.model import ActionStatus, LadderStep, Outcome
from matcher_cli.commands.round import ServerOption
from matcher_cli.console import console, reported_errors
from matcher_cli.options import parse_day

if TYPE_CHECKING:
    from matcher_cli.client import MatcherClient

case_app = typer.Typer(
    help="The activity list per case on the service: actions, statuses, overdue, export.",
    no_args_is_help=True,
)
RoundArg = typer.Argument(..., help="Round id.")
CaseOpt = typer.Option(..., "--case", help="Case id (from the round's case list).")
TokenOption = typer.Option(
    None, "--token", help="The coordinator's or an agency's token (or MATCHER_TOKEN)."
)
OwnOpt = typer.Option(False, "--own", help="Act as the agency whose token this is.")


def _client(server: str | None, token: str | None) -> MatcherClient:
    from matcher_cli.client import MatcherClient, client_settings

    return MatcherClient(client_settings(server, token))


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _find(cases: list[dict[str, Any]], case_id: str) -> dict[str, Any]:
    """A case from the round's activity lists (a case without one yet starts empty)."""
    for case in cases:
        if case["case_id"] == case_id:
            return case
    return {"case_id": case_id, "actions": []}


def _writable(case: dict[str, Any]) -> dict[str, Any]:
    """A stored activity list as the body of the PUT that replaces it."""
    fields = ("earliest_signal", "meeting_date", "step", "follow_up_date", "outcome")
    body = {f: case[f] for f in fields if case.get(f) is not None}
    if case.get("round_date"):
        body["round_date"] = case["round_date"]
    body["actions"] = [
        {k: a[k] for k in ("action_type", "agency", "due", "status", "done_on") if a.get(k)}
        for a in case.get("actions", [])
    ]
    return body


@case_app.command("list")
def list_cases(
    round_id: str = RoundArg,
    own: bool = OwnOpt,
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Cases with their step, actions and outcome (with --own: only your own)."""
    with reported_errors(), _client(server, token) as client:
        table = Table("case", "agencies", "step", "actions", "done", "outcome")
        for c in client.followups(round_id, own=own):
            done = sum(a["status"] == "done" for a in c["actions"])
            table.add_row(
                c["case_id"],
                ", ".join(c["agencies"]),
                c.get("step") or "-",
                str(len(c["actions"])),
                str(done),
                c["outcome"],
            )
        console.print(table)


@case_app.command("record")
def record(
    round_id: str = RoundArg,
    case_id: str = CaseOpt,
    meeting: str | None = typer.Option(None, "--meeting", help="Meeting date, YYYY-MM-DD."),
    step: LadderStep | None = typer.Option(None, "--step", help="Step reached on the ladder."),
    follow_up: str | None = typer.Option(None, "--follow-up", help="Follow-up date."),
    outcome: Outcome | None = typer.Option(None, "--outcome", help="Outcome category."),
    earliest_signal: str | None = typer.Option(
        None, "--earliest-signal", help="Date of the case's earliest signal."
    ),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Coordinator: set a case's meeting date, ladder step, follow-up date or outcome."""
    with reported_errors(), _client(server, token) as client:
        body = _writable(_find(client.followups(round_id), case_id))
        given = {
            "meeting_date": _iso(parse_day(meeting, "--meeting")),
            "step": None if step is None else step.value,
            "follow_up_date": _iso(parse_day(follow_up, "--follow-up")),
            "outcome": None if outcome is None else outcome.value,
            "earliest_signal": _iso(parse_day(earliest_signal, "--earliest-signal")),
        }
        body.update({k: v for k, v in given.items() if v is not None})
        client.put_followup(round_id, case_id, body)
        console.print(f"case {case_id} recorded")


@case_app.command("action")
def add_action(
    round_id: str = RoundArg,
    case_id: str = CaseOpt,
    action_type: str = typer.Option(..., "--type", help="A configured action type code."),
    agency: str = typer.Option(..., "--responsible", help="The responsible agency's label."),
    due: str = typer.Option(..., "--due", help="YYYY-MM-DD"),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Coordinator: add an agreed action to a case."""
    with reported_errors(), _client(server, token) as client:
        body = _writable(_find(client.followups(round_id), case_id))
        day = parse_day(due, "--due")
        body["actions"].append({"action_type": action_type, "agency": agency, "due": _iso(day)})
        saved = client.put_followup(round_id, case_id, body)
        console.print(f"action {len(saved['actions'])} added to case {case_id}")


@case_app.command("update")
def update(
    round_id: str = RoundArg,
    case_id: str = CaseOpt,
    number: int = typer.Option(..., "--action", help="Action number in the case (1-based)."),
    status: ActionStatus = typer.Option(..., "--status"),
    own: bool = OwnOpt,
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Set an action's status (with --own: one of your own actions, numbered as in the case)."""
    with reported_errors(), _client(server, token) as client:
        if own:
            client.set_action_status(round_id, case_id, number, status.value)
        else:
            body = _writable(_find(client.followups(round_id), case_id))
            if not 1 <= number <= len(body["actions"]):
                raise ConfigError("the case has no action with this number", column="--action")
            action = body["actions"][number - 1]
            action["status"] = status.value
            action.pop("done_on", None)
            if status is ActionStatus.DONE:
                action["done_on"] = date.today().isoformat()
            client.put_followup(round_id, case_id, body)
        console.print(f"action {number} of case {case_id}: {status.value}")


@case_app.command("overdue")
def overdue_cmd(
    round_id: str = RoundArg,
    own: bool = OwnOpt,
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Actions past their due date that are neither done nor cancelled."""
    from matcher.followup.codec import case_from_dict
    from matcher.followup.model import overdue

    with reported_errors(), _client(server, token) as client:
        table = Table("case", "action", "type", "agency", "due", "status")
        if own:  # the agency's own actions, checked here against today
            cases = [case_from_dict(c) for c in client.followups(round_id, own=True)]
            rows = [
                (cid, i + 1, a.action_type, a.agency, str(a.due), str(a.status))
                for cid, i, a in overdue(cases, date.today())
            ]
        else:
            rows = [
                (o["case_id"], o["action"], o["action_type"], o["agency"], o["due"], o["status"])
                for o in client.overdue(round_id)
            ]
        for row in rows:
            table.add_row(*(str(v) for v in row))
        console.print(table)


@case_app.command("export")
def export(
    round_id: str = RoundArg,
    out: Path = typer.Option(..., "--out", help="The Excel workbook to write."),
    own: bool = OwnOpt,
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """The activity list and its overdue actions as an Excel workbook."""
    from matcher.followup.codec import case_from_dict
    from matcher.followup.outputs import write_activity_xlsx

    with reported_errors(), _client(server, token) as client:
        cases = [case_from_dict(c) for c in client.followups(round_id, own=own)]
        write_activity_xlsx(cases, out, date.today())
        console.print(f"wrote {out}")


@case_app.command("types")
def types(
    set_types: list[str] | None = typer.Option(
        None, "--set", help="Replace the list: code=Label (repeat, in order; coordinator)."
    ),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """The configured action types; with --set, the coordinator replaces them."""
    with reported_errors(), _client(server, token) as client:
        if set_types:
            pairs = [t.partition("=") for t in set_types]
            if any(not code or not sep or not label for code, sep, label in pairs):
                raise ConfigError("each --set is code=Label", column="--set")
            current = client.set_action_types(
                [{"code": code.strip(), "label": label.strip()} for code, _, label in pairs]
            )
        else:
            current = client.action_types()
        table = Table("code", "label", title="action types")
        for t in current:
            table.add_row(t["code"], t["label"])
        console.print(table)


def register(app: typer.Typer) -> None:
    """Attach `matcher case ...`."""
    app.add_typer(case_app, name="case")
