"""`matcher link HASHED...`: link agencies' hashed files offline into cases (and clusters).

For coordinators without the service, for evaluation and for benchmarks. Only counts, stage
timings and file names are printed; refs stay in the output files.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from rich.progress import TaskID
from rich.table import Table

from matcher._files import write_atomic
from matcher.errors import OutputExistsError
from matcher_cli.console import console, err_console, progress, reported_errors
from matcher_cli.options import parse_day


def _write(frame: pl.DataFrame, path: Path) -> None:
    """Write Parquet atomically (temporary file, then rename)."""
    write_atomic(path, lambda tmp: frame.write_parquet(tmp, compression="zstd"))


def link_command(
    hashed: list[Path] = typer.Argument(..., help="Hashed files of one round, one per agency."),
    k: int = typer.Option(2, "--k", help="Cases need signals from at least k agencies."),
    window_from: str | None = typer.Option(
        None, "--window-from", help="First signal date counted (YYYY-MM-DD)."
    ),
    window_to: str | None = typer.Option(
        None, "--window-to", help="Last signal date counted (YYYY-MM-DD)."
    ),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        help="Dice coefficient for fuzzy links, in (0, 1]; default: the core's tuned value.",
    ),
    out: Path = typer.Option(..., "--out", help="Cases Parquet file (one row per record)."),
    clusters: Path | None = typer.Option(
        None, "--clusters", help="Also write every record's cluster (agency, ref, cluster_id)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
) -> None:
    """Link hashed files into clusters (one per child) and cases (>= k agencies in the window).

    Files made with another key, round or encoding parameters are refused.
    """
    with reported_errors():
        start = parse_day(window_from, "--window-from")
        end = parse_day(window_to, "--window-to")
        for path in (out, clusters):
            if path is not None and path.exists() and not overwrite:
                raise OutputExistsError(
                    "output file exists; pass --overwrite to replace it", file=path
                )
        from matcher.linkage.linkage import DEFAULT_THRESHOLD, link
        from matcher.steward.hashed_file import read_hashed

        files = [read_hashed(path) for path in hashed]
        with progress() as bar:
            tasks: list[TaskID] = []

            def on_stage(name: str) -> None:
                if tasks:
                    bar.update(tasks[-1], total=1, completed=1)
                tasks.append(bar.add_task(name, total=None))

            result = link(
                files,
                k=k,
                window_from=start,
                window_to=end,
                threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
                on_stage=on_stage,
            )
            if tasks:
                bar.update(tasks[-1], total=1, completed=1)
        _write(result.cases, out)
        if clusters is not None:
            _write(result.clusters, clusters)

    stats = result.stats
    table = Table(show_header=False, box=None)
    table.add_row("files", str(len(files)))
    table.add_row("agencies", str(stats.agencies))
    table.add_row("records", str(stats.records))
    table.add_row("clusters", str(stats.clusters))
    table.add_row("cases", f"[bold]{stats.cases}[/] (k={k})")
    links = stats.links
    table.add_row(
        "links",
        f"identity {links['id']}, name {links['name']}, fuzzy {links['fuzzy']} "
        f"(refused by the identity rule: {links['name_refused'] + links['fuzzy_refused']})",
    )
    table.add_row("time", f"{stats.timings['total_s']:.2f} s (compile {stats.compile_s:.2f} s)")
    console.print(table)
    if result.case_summary.height:
        by_size = result.case_summary.group_by("n_agencies").len().sort("n_agencies")
        spread = ", ".join(f"{n} agencies: {c}" for n, c in by_size.iter_rows())
        console.print(f"cases by number of agencies: {spread}")
    err_console.print(f"wrote {out.name}" + (f" and {clusters.name}" if clusters else ""))


def register(app: typer.Typer) -> None:
    """Attach `matcher link`."""
    app.command("link")(link_command)
