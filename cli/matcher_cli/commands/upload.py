"""`matcher upload HASHED --round ID`: send the agency's hashed file to the coordinator service."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from matcher_cli.console import console, err_console, reported_errors


def upload_command(
    hashed: Path = typer.Argument(..., exists=True, dir_okay=False, help="The hashed file."),
    round_id: str = typer.Option(..., "--round", help="Round id given by the coordinator."),
    token: str | None = typer.Option(
        None, "--token", help="This agency's upload token (or MATCHER_TOKEN)."
    ),
    server: str | None = typer.Option(None, "--server", help="Service URL (or MATCHER_SERVER)."),
) -> None:
    """Upload (or replace) this agency's hashed file; it is checked locally first."""
    with reported_errors():
        from matcher.steward.hashed_file import read_hashed
        from matcher_cli.client import MatcherClient, client_settings

        header = read_hashed(hashed).header  # refuse a broken file before sending it
        with MatcherClient(client_settings(server, token)) as client:
            stored = client.upload(round_id, hashed)
        console.print(
            f"uploaded {stored['row_count']} records for agency {header.agency} "
            f"to round {round_id} (key check {stored['key_check']})"
        )
        if stored.get("warning"):
            err_console.print(f"[yellow]warning:[/] {escape(stored['warning'])}")


def register(app: typer.Typer) -> None:
    """Attach `matcher upload`."""
    app.command("upload")(upload_command)
