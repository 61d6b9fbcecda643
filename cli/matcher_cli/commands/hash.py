"""`matcher hash INPUT ...`: the steward's command, export → hashed file + local map + rejects."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from matcher.steward.hashing import hash_export
from matcher.steward.keys import fingerprint, read_key_file
from matcher.steward.rejects import explain
from matcher_cli.commands.inspect import loud_warnings, reading_options
from matcher_cli.console import console, progress, reported_errors
from matcher_cli.options import parse_day


def hash_command(
    input_file: Path = typer.Argument(..., help="The agency export (CSV, .xlsx or Parquet)."),
    key: Path = typer.Option(..., "--key", help="The shared secret's key file."),
    round_id: str = typer.Option(..., "--round", help="The round id the coordinator gave."),
    agency: str = typer.Option(..., "--agency", help="Your agency's label in this round."),
    out: Path = typer.Option(..., "--out", help="The hashed file to upload (Parquet)."),
    map_path: Path = typer.Option(
        ..., "--map", help="The local map (Parquet): ref → your record id. Never upload it."
    ),
    rejects: Path = typer.Option(
        ..., "--rejects", help="Rejects report (CSV): row, column, reason, never the value."
    ),
    reference_date: str | None = typer.Option(
        None, "--reference-date", help="The round's date (YYYY-MM-DD); default today."
    ),
    mapping: Path | None = typer.Option(None, "--mapping", help="TOML column mapping file."),
    column: list[str] | None = typer.Option(
        None, "--column", help='Map a header to a field: "Header=field" (repeatable).'
    ),
    encoding: str | None = typer.Option(None, "--encoding", help="e.g. utf-8, cp1252."),
    separator: str | None = typer.Option(None, "--separator", help="';', ',' or 'tab'."),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel sheet name or number."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
    outcomes: bool = typer.Option(
        False,
        "--outcomes",
        help="The list is an analysis round's outcome list (e.g. placements), not signals.",
    ),
) -> None:
    """Hash an export with the round key: writes the hashed file, the local map and rejects."""
    with reported_errors():
        options, columns = reading_options(mapping, column, encoding, separator, sheet)
        ref_date = parse_day(reference_date, "--reference-date") or date.today()
        secret = read_key_file(key)
        with loud_warnings(), progress() as bar:
            task = bar.add_task("hashing", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = hash_export(
                input_file,
                secret=secret,
                round_id=round_id,
                agency=agency,
                out=out,
                map_path=map_path,
                rejects_path=rejects,
                reference_date=ref_date,
                columns=columns,
                encoding=options.encoding,
                separator=options.separator,
                sheet=options.sheet,
                overwrite=overwrite,
                progress=advance,
                list_kind="outcomes" if outcomes else "signals",
            )

    table = Table(title="matcher hash", show_header=False, title_justify="left")
    table.add_row("input", escape(input_file.name))
    table.add_row("round / agency", f"{escape(round_id)} / {escape(agency)}")
    table.add_row("key fingerprint", fingerprint(secret))
    table.add_row("key check value", summary.key_check)
    table.add_row("reference date", ref_date.isoformat())
    table.add_row("rows read", f"{summary.rows_read:,}")
    table.add_row("rows hashed", f"{summary.rows_hashed:,}")
    table.add_row("  with an identity number", f"{summary.rows_with_id:,}")
    table.add_row("rows rejected", f"{sum(summary.rejected.values()):,}")
    table.add_row("time", f"{summary.seconds:.1f} s")
    console.print(table)
    for title, counts in (
        ("rows rejected by reason", summary.rejected),
        ("fields ignored by reason (rows still hashed)", summary.fields_ignored),
        ("warnings by reason", summary.warnings),
    ):
        if not counts:
            continue
        reasons = Table(title=title, title_justify="left")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        reasons.add_column("meaning")
        for reason, count in counts.items():
            reasons.add_row(reason, f"{count:,}", explain(reason))
        console.print(reasons)
    console.print(
        f"upload [bold]{escape(out.name)}[/]; keep [bold]{escape(map_path.name)}[/] and "
        f"[bold]{escape(rejects.name)}[/] at your agency."
    )


def register(app: typer.Typer) -> None:
    """Attach `matcher hash`."""
    app.command("hash")(hash_command)
