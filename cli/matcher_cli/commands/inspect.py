"""`matcher inspect FILE`: what matcher reads from an export, without printing any cell value."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import polars as pl
import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from matcher.errors import ConfigError, MatcherWarning
from matcher.steward.exports import MappingConfig, load_mapping, read_export
from matcher.steward.normalise import normalise_export
from matcher.steward.rejects import explain, rejects_summary
from matcher_cli.console import console, reported_errors
from matcher_cli.options import parse_day

_SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ","}


def parse_separator(value: str | None) -> str | None:
    """A --separator flag: one character, or tab/semicolon/comma by name."""
    if value is None:
        return None
    return _SEPARATOR_NAMES.get(value.lower(), value)


def parse_columns(values: list[str] | None) -> dict[str, str]:
    """--column "Header=field" flags into a header → field mapping."""
    mapping: dict[str, str] = {}
    for item in values or []:
        header, sep, target = item.rpartition("=")
        if not sep or not header.strip():
            raise ConfigError('--column takes "Header=field"', reason="column_flag")
        mapping[header.strip()] = target.strip()
    return mapping


def reading_options(
    mapping_file: Path | None,
    columns: list[str] | None,
    encoding: str | None,
    separator: str | None,
    sheet: str | None,
) -> tuple[MappingConfig, dict[str, str]]:
    """Merge a mapping file with flags (flags win): (reading settings, header → field)."""
    config = load_mapping(mapping_file) if mapping_file is not None else MappingConfig()
    merged = MappingConfig(
        columns={**config.columns, **parse_columns(columns)},
        encoding=encoding or config.encoding,
        separator=parse_separator(separator) or config.separator,
        sheet=sheet or config.sheet,
    )
    return merged, merged.columns


@contextmanager
def loud_warnings() -> Iterator[list[MatcherWarning]]:
    """Collect the library's `MatcherWarning`s while reading an export and show each one loudly
    (a boxed, bold warning on the console) when the block ends, even if it ends in an error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MatcherWarning)
        shown: list[MatcherWarning] = []
        try:
            yield shown
        finally:
            for item in caught:
                if isinstance(item.message, MatcherWarning):
                    shown.append(item.message)
                    console.print(
                        Panel(
                            escape(str(item.message)),
                            title="[bold]WARNING[/]",
                            border_style="bold yellow",
                            style="bold",
                        )
                    )
                else:
                    warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


def _shown_header(header: str, limit: int = 60) -> str:
    """A header for display: one line, at most ``limit`` characters, rich markup escaped."""
    flat = " ".join(header.split())
    return escape(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _shown_separator(sep: str | None) -> str:
    return "-" if sep is None else {"\t": "tab", ";": "';'", ",": "','"}.get(sep, repr(sep))


def inspect_command(
    file: Path = typer.Argument(..., help="The agency export (CSV, .xlsx or Parquet)."),
    mapping: Path | None = typer.Option(None, "--mapping", help="TOML column mapping file."),
    column: list[str] | None = typer.Option(
        None, "--column", help='Map a header to a field: "Header=field" (repeatable).'
    ),
    encoding: str | None = typer.Option(None, "--encoding", help="e.g. utf-8, cp1252."),
    separator: str | None = typer.Option(None, "--separator", help="';', ',' or 'tab'."),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel sheet name or number."),
    reference_date: str | None = typer.Option(
        None, "--reference-date", help="The round's date (YYYY-MM-DD); default today."
    ),
) -> None:
    """Show the detected format, encoding, separator, mapping, fill rates and identifier problems.

    No cell value is ever printed: only headers, counts and reason codes.
    """
    with reported_errors():
        options, columns = reading_options(mapping, column, encoding, separator, sheet)
        ref = parse_day(reference_date, "--reference-date") or date.today()
        with loud_warnings():
            export = read_export(
                file,
                encoding=options.encoding,
                separator=options.separator,
                sheet=options.sheet,
                columns=columns,
            )
        info = export.info
        normalised = normalise_export(
            export.frame, reference_date=ref, source=file.name, headers=info.mapping.fields
        )

    summary = Table(show_header=False, box=None)
    summary.add_row("file", escape(file.name))
    summary.add_row("format", info.format)
    if info.format == "csv":
        summary.add_row("encoding", info.encoding or "-")
        summary.add_row("separator", _shown_separator(info.separator))
    if info.format == "xlsx":
        summary.add_row("sheet", f"{info.sheet} (of {', '.join(info.sheets)})")
    summary.add_row("header row", str(info.header_row))
    summary.add_row("data rows", str(info.n_rows))
    summary.add_row("reference date", ref.isoformat())
    console.print(summary)

    frame = export.frame
    table = Table(title="columns")
    table.add_column("header")
    table.add_column("field")
    table.add_column("filled", justify="right")
    by_header = info.mapping.header_to_field
    for header in info.headers:
        fld = by_header.get(header)
        if fld is None:
            table.add_row(_shown_header(header), "[dim]ignored[/]", "")
            continue
        filled = frame.select(
            (pl.col(fld).is_not_null() & (pl.col(fld).str.strip_chars() != "")).sum()
        ).item()
        rate = f"{100 * filled / frame.height:.1f}%" if frame.height else "-"
        table.add_row(_shown_header(header), fld, rate)
    console.print(table)
    for header in info.mapping.unmatched_overrides:
        console.print(f"[yellow]mapping names a column the file lacks:[/] {_shown_header(header)}")

    rejects = pl.concat([export.rejects, normalised.rejects])
    usable = normalised.records.height
    console.print(
        f"{usable} of {info.n_rows} rows can link; "
        f"{normalised.records['pnr'].is_not_null().sum()} with a valid identity number"
    )
    if rejects.height:
        problems = Table(title="problems by reason")
        for name in ("reason", "action", "count", "meaning"):
            problems.add_column(name, justify="right" if name == "count" else "left")
        for reason, action, count in rejects_summary(rejects).iter_rows():
            problems.add_row(reason, action, str(count), explain(reason))
        console.print(problems)
    else:
        console.print("no problems found")


def register(app: typer.Typer) -> None:
    """Attach `matcher inspect`."""
    app.command("inspect")(inspect_command)
