"""`matcher synth`: write realistic synthetic agency exports plus their ground truth.

For trying matcher without real data, for the demo and for the quality evaluation. The files
hold synthetic people only; what is printed is file names and counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from matcher.errors import ConfigError
from matcher_cli.console import console, err_console, reported_errors
from matcher_cli.options import parse_day


def _parse_sets(values: list[str]) -> dict[str, object]:
    """``NAME=VALUE`` pairs (VALUE as JSON where it parses, else text) for SynthConfig fields."""
    out: dict[str, object] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError("--set takes NAME=VALUE, e.g. --set id_typo_rate=0.02", reason="set")
        try:
            out[name.strip()] = json.loads(raw)
        except ValueError:
            out[name.strip()] = raw
    return out


def synth_command(
    out: Path = typer.Option(..., "--out", help="Folder for the exports, truth and manifest."),
    children: int = typer.Option(1000, "--children", help="Distinct children on any list."),
    agencies: str = typer.Option(
        "skola,socialtjanst,polis,fritid",
        "--agencies",
        help="Comma-separated: skola, socialtjanst, polis, fritid, elevhalsa, bup.",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same files."),
    reference_date: str | None = typer.Option(
        None, "--reference-date", help="Round date (YYYY-MM-DD) that ages count from."
    ),
    profile: str = typer.Option(
        "default",
        "--profile",
        help="Named error rates: default, or harsh (the error families of real agency lists at "
        "realistic rates; see matcher.evaluation.synth.SYNTH_PROFILES). Other options win.",
    ),
    id_typo_rate: float | None = typer.Option(None, help="Records with a mistyped digit."),
    id_missing_rate: float | None = typer.Option(None, help="Records without their number."),
    name_typo_rate: float | None = typer.Option(None, help="Records with a one-letter typo."),
    sets: list[str] = typer.Option(
        [],
        "--set",
        help="Any other generator setting as NAME=VALUE "
        "(see matcher.evaluation.synth.SynthConfig), e.g. --set samordningsnummer_share=0.03.",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing files."),
) -> None:
    """Generate Swedish children and their agencies' exports with a ground truth."""
    with reported_errors():
        from matcher.evaluation.synth import config_from_options, synthesize

        options: dict[str, object] = {
            "children": children,
            "agencies": tuple(a.strip() for a in agencies.split(",") if a.strip()),
            "seed": seed,
            "profile": profile,
            "id_typo_rate": id_typo_rate,
            "id_missing_rate": id_missing_rate,
            "name_typo_rate": name_typo_rate,
            **_parse_sets(sets),
        }
        if reference_date is not None:
            options["reference_date"] = parse_day(reference_date, "--reference-date")
        config = config_from_options(options)
        with console.status("generating synthetic agencies"):
            result = synthesize(config, out, overwrite=overwrite)

    table = Table(title=f"synthetic agencies in {out}", title_justify="left")
    for column in ("agency", "file", "format", "rows", "mapping"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for name, path in result.files.items():
        agency = config.profiles[name]
        if path.suffix == ".xlsx":
            kind = "Excel, title row"
        else:
            encoding = "utf-8" if agency.file_format == "xlsx" else agency.encoding
            kind = f"CSV {encoding} '{agency.delimiter}'"
        table.add_row(name, path.name, kind, f"{result.rows[name]:,}", f"{name}.mapping.toml")
    console.print(table)
    console.print(
        f"truth: {result.truth.name} ({sum(result.rows.values()):,} records, "
        f"{config.children:,} children), manifest: {result.manifest.name}, seed {config.seed}"
    )
    for note in result.notes:
        err_console.print(f"[yellow]note:[/] {note}")


def register(app: typer.Typer) -> None:
    """Attach `matcher synth`."""
    app.command("synth")(synth_command)
