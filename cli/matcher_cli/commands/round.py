"""`matcher round create|list|status|match|cases|purge`: the coordinator's side of a round."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from matcher.disclosure import DisclosurePolicy
from matcher.errors import OutputExistsError
from matcher.followup.model import RoundKind
from matcher_cli.console import console, reported_errors
from matcher_cli.options import parse_day

round_app = typer.Typer(
    help="Coordinator: open rounds, follow uploads, run matching, read cases, purge.",
    no_args_is_help=True,
)

ServerOption = typer.Option(None, "--server", help="Service URL (or MATCHER_SERVER).")
TokenOption = typer.Option(None, "--token", help="The coordinator token (or MATCHER_TOKEN).")


def _client(server: str | None, token: str | None) -> Any:
    from matcher_cli.client import MatcherClient, client_settings

    return MatcherClient(client_settings(server, token))


def _iso(day: date | None) -> str | None:
    """A date as YYYY-MM-DD for the JSON request body."""
    return None if day is None else day.isoformat()


def _write_tokens(path: Path, tokens: dict[str, str]) -> None:
    """Write the agency tokens to a new file readable only by its owner."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise OutputExistsError("the tokens file exists already", file=path) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(tokens, handle, indent=2)


def _print_round(data: dict[str, Any]) -> None:
    window = f"{data.get('window_from') or '…'} to {data.get('window_to') or '…'}"
    kind = "analysis round (aggregates only)" if data.get("kind") == "analysis" else "round"
    console.print(
        f"{kind} [bold]{data['id']}[/] ({data['name']}): k={data['k']}, window {window}, "
        f"policy {data['disclosure_policy']}, purged after {data['expires_at'][:10]}"
    )
    console.print(f"legal basis: {data['legal_basis']}")
    table = Table("agency", "uploaded", "records", "key check")
    for agency in data["agencies"]:
        upload = agency.get("upload")
        table.add_row(
            agency["label"],
            upload["uploaded_at"][:19] if upload else "no",
            str(upload["row_count"]) if upload else "",
            upload["key_check"] if upload else "",
        )
    console.print(table)
    job = data.get("job")
    if job:
        _print_job(job)


def _print_job(job: dict[str, Any]) -> None:
    line = f"matching: {job['status']}"
    if job["status"] == "done":
        line += f", {job['case_count']} cases"
    if job.get("error"):
        line += f" ({job['error']})"
    console.print(line)


@round_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="A name people recognise."),
    legal_basis: str = typer.Option(..., "--legal-basis", help="The legal basis relied on."),
    agencies: list[str] = typer.Option(..., "--agency", help="A participating agency (repeat)."),
    round_id: str | None = typer.Option(None, "--id", help="Round id (generated if left out)."),
    k: int = typer.Option(2, "--k", help="Cases need signals from at least k agencies."),
    window_from: str | None = typer.Option(None, "--window-from", help="YYYY-MM-DD"),
    window_to: str | None = typer.Option(None, "--window-to", help="YYYY-MM-DD"),
    policy: DisclosurePolicy = typer.Option(
        DisclosurePolicy.AGENCIES_ONLY,
        "--policy",
        help="agencies_only, or agencies_and_categories to show the others' signal categories.",
    ),
    kind: RoundKind = typer.Option(
        RoundKind.SIGNALS,
        "--kind",
        help="signals (cases for a meeting list) or analysis (aggregated statistics only; one "
        "agency uploads an outcome list hashed with --outcomes).",
    ),
    retention_days: int | None = typer.Option(None, "--retention-days", help="Days to keep."),
    max_list_rows: int | None = typer.Option(
        None,
        "--max-list-rows",
        help="Most rows one agency's list may hold: bounds what an agency uploading its whole "
        "roster learns of the other lists (docs/privacy-attacks.md).",
    ),
    window_dates_required: bool = typer.Option(
        False,
        "--window-dates-required",
        help="Refuse a list with a row whose signal date is missing or outside the window.",
    ),
    tokens_out: Path | None = typer.Option(
        None, "--tokens-out", help="Also write the agency tokens to this new file (mode 600)."
    ),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Open a round; each agency's upload token is shown once."""
    with reported_errors():
        body: dict[str, Any] = {
            "name": name,
            "legal_basis": legal_basis,
            "agencies": agencies,
            "k": k,
            "disclosure_policy": policy.value,
            "kind": kind.value,
            "window_from": _iso(parse_day(window_from, "--window-from")),
            "window_to": _iso(parse_day(window_to, "--window-to")),
        }
        if round_id:
            body["id"] = round_id
        if retention_days:
            body["retention_days"] = retention_days
        if max_list_rows is not None:
            body["max_list_rows"] = max_list_rows
        if window_dates_required:
            body["window_dates_required"] = True
        if tokens_out is not None and tokens_out.exists():
            raise OutputExistsError("the tokens file exists already", file=tokens_out)
        with _client(server, token) as client:
            created = client.create_round(body)
        _print_round(created["round"])
        table = Table("agency", "upload token (shown once)", title="hand each steward its token")
        for label, agency_token in created["agency_tokens"].items():
            table.add_row(label, agency_token)
        console.print(table)
        if tokens_out is not None:
            _write_tokens(tokens_out, created["agency_tokens"])
            console.print(f"tokens also written to {tokens_out}")


@round_app.command("list")
def list_rounds(server: str | None = ServerOption, token: str | None = TokenOption) -> None:
    """List the live rounds."""
    with reported_errors(), _client(server, token) as client:
        table = Table("round", "kind", "name", "agencies", "uploaded", "matching", "purged after")
        for data in client.list_rounds():
            uploaded = sum(1 for a in data["agencies"] if a.get("upload"))
            job = data.get("job") or {}
            table.add_row(
                data["id"],
                data.get("kind", "signals"),
                data["name"],
                str(len(data["agencies"])),
                str(uploaded),
                job.get("status", "-"),
                data["expires_at"][:10],
            )
        console.print(table)


@round_app.command("status")
def status(
    round_id: str = typer.Argument(..., help="Round id."),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Show a round's terms, which agencies have uploaded, and the matching status."""
    with reported_errors(), _client(server, token) as client:
        _print_round(client.round_status(round_id))


@round_app.command("match")
def match(
    round_id: str = typer.Argument(..., help="Round id."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait until matching has ended."),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Start matching the round's uploads."""
    with reported_errors(), _client(server, token) as client:
        job = client.start_match(round_id)
        if wait:
            job = client.wait_for_match(round_id)
        _print_job(job)
        if job["status"] in ("failed", "stale"):
            raise typer.Exit(1)


@round_app.command("cases")
def cases(
    round_id: str = typer.Argument(..., help="Round id."),
    out: Path | None = typer.Option(None, "--out", help="Write the case list to this CSV file."),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Show the case counts (small counts suppressed) and optionally save the case list."""
    with reported_errors(), _client(server, token) as client:
        data = client.round_results(round_id)
        console.print(f"cases: {data['case_count']}")
        table = Table("agencies in the case", "cases")
        for combo in data["cases_by_combination"]:
            table.add_row(", ".join(combo["agencies"]), str(combo["cases"]))
        console.print(table)
        if out is not None:
            if out.exists():
                raise OutputExistsError("output file exists", file=out)
            lines = ["case_id;agencies"] + [
                f"{case['case_id']};{', '.join(case['agencies'])}" for case in data["cases"]
            ]
            out.write_text("\n".join(lines) + "\n", encoding="utf-8")
            console.print(f"case list written to {out}")


@round_app.command("purge")
def purge(
    round_id: str = typer.Argument(..., help="Round id."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Delete a round now: uploads, results and tokens are gone for good."""
    with reported_errors():
        if not yes:
            typer.confirm(f"Delete round {round_id} with all uploads and results?", abort=True)
        with _client(server, token) as client:
            deleted = client.purge(round_id)["deleted_rows"]
        console.print(
            f"round {round_id} purged ({deleted.get('uploads', 0)} uploads, "
            f"{deleted.get('agency_results', 0)} result views deleted)"
        )


def register(app: typer.Typer) -> None:
    """Attach `matcher round ...`."""
    app.add_typer(round_app, name="round")
