"""`matcher demo`: a whole SSPF matching round on synthetic data, every role on this machine.

Prints each agency's meeting list (its own synthetic record ids per case), the coordinator's
case summary and the linkage quality against the generator's truth. Everything is deleted at
the end unless ``--keep DIR``.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from matcher_cli.console import console, err_console, reported_errors
from matcher_cli.demo import DEFAULT_AGENCIES, DemoResult


def _meeting_table(agency: str, result: DemoResult, show: int) -> Table:
    listing = result.stewards[agency].meeting_list
    cases = listing["case_id"].n_unique() if listing.height else 0
    table = Table(
        title=f"{agency}: meeting list ({cases} cases, {listing.height} own records)",
        title_justify="left",
    )
    columns = ["case_id", "record_id", "signal", "signal_date", "other_agencies"]
    if "other_signals" in listing.columns and console.width >= 120:
        columns.append("other_signals")  # in the file always; on screen when there is room
    for column in columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in listing.head(show).iter_rows(named=True):
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    if listing.height > show:
        table.caption = f"… {listing.height - show} more rows"
    return table


def _coordinator_table(result: DemoResult) -> Table:
    view = result.coordinator
    table = Table(
        title=f"coordinator: round {result.round_id} (counts under "
        f"{view['suppression_threshold']} shown as <{view['suppression_threshold']})",
        title_justify="left",
    )
    table.add_column("agencies in the case")
    table.add_column("cases", justify="right")
    for combo in view["cases_by_combination"]:
        table.add_row(" + ".join(combo["agencies"]), str(combo["cases"]))
    by_count = ", ".join(f"{n} agencies: {c}" for n, c in view["cases_by_agency_count"].items())
    table.caption = f"{view['case_count']} cases in all ({by_count}); no names, no record refs"
    return table


def demo_command(
    children: int = typer.Option(2000, "--children", help="Synthetic children on any list."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic data."),
    agencies: str = typer.Option(
        ",".join(DEFAULT_AGENCIES),
        "--agencies",
        help="4 to 6 of: "
        + ", ".join(("skola", "socialtjanst", "polis", "fritid", "elevhalsa", "bup")),
    ),
    keep: Path | None = typer.Option(
        None, "--keep", help="Keep every file (exports, hashed files, maps, meeting lists) here."
    ),
    show: int = typer.Option(6, "--show", help="Meeting-list rows printed per agency."),
    analysis: bool = typer.Option(False, "--analysis", help="Show an analysis round instead."),
) -> None:
    """Run a whole matching round on synthetic agencies and show what every role gets."""
    if analysis:  # the retrospective analysis round (issue 10), in matcher report
        from matcher_cli.commands.report import analysis_demo

        return analysis_demo(children=children, seed=seed, keep=keep)
    with reported_errors():
        from matcher_cli.demo import run_demo

        started = time.perf_counter()
        with console.status("starting") as status:

            def step(message: str) -> None:
                """Show a step with the time since the start."""
                elapsed = time.perf_counter() - started
                err_console.print(f"[dim]{elapsed:5.1f}s[/] {message}")
                status.update(message)

            result = run_demo(
                children=children,
                seed=seed,
                agencies=tuple(a.strip() for a in agencies.split(",") if a.strip()),
                keep=keep,
                step=step,
            )
        total = time.perf_counter() - started

    stewards = Table(title="stewards: hashing on their own machines", title_justify="left")
    for column in ("agency", "export", "rows", "hashed", "rejected rows"):
        stewards.add_column(column, justify="left" if column in ("agency", "export") else "right")
    for report in result.stewards.values():
        rejected = sum(report.rejected.values())
        stewards.add_row(
            report.agency, report.export, f"{report.rows_read:,}", f"{report.rows_hashed:,}",
            f"{rejected:,}",
        )  # fmt: skip
    console.print(stewards)
    for agency in result.stewards:
        console.print(_meeting_table(agency, result, show))
    console.print(_coordinator_table(result))

    from matcher_cli.commands.evaluate import breakdown_table, summary_table

    console.print(summary_table(result.evaluation, title="linkage quality against the truth"))
    worst = result.evaluation.by_error.filter(
        (result.evaluation.by_error["missed_pairs"] > 0)
        | (result.evaluation.by_error["false_pairs"] > 0)
    )
    if worst.height:
        console.print(breakdown_table(worst.head(10)))
    timings = ", ".join(f"{k.removesuffix('_s')} {v:.1f}s" for k, v in result.timings.items())
    console.print(f"done in {total:.1f}s ({timings})")
    if result.kept:
        console.print(f"all files kept in {result.workspace}")
    else:
        console.print("workspace, database and key deleted")


def register(app: typer.Typer) -> None:
    """Attach `matcher demo`."""
    app.command("demo")(demo_command)
