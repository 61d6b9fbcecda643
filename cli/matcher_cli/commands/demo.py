"""`matcher demo`: a whole SSPF matching round on synthetic data, every role on this machine.

Prints each agency's meeting list (its own synthetic record ids per case), the coordinator's
case summary and the linkage quality against the generator's truth. Everything is deleted at
the end unless ``--keep DIR``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from matcher.extras import require_extra
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
    serve: bool = typer.Option(
        False, "--serve", help="Keep the service and its web pages running until Ctrl-C."
    ),
    analysis: bool = typer.Option(False, "--analysis", help="Show an analysis round instead."),
) -> None:
    """Run a whole matching round on synthetic agencies and show what every role gets."""
    if analysis:  # the retrospective analysis round (issue 10), in matcher report
        from matcher_cli.commands.report import analysis_demo

        return analysis_demo(children=children, seed=seed, keep=keep)
    with reported_errors():
        require_extra("server", what="matcher demo")
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
                serve=(lambda r: _serve(r, show, started, status)) if serve else None,
            )
        total = time.perf_counter() - started
    if serve:
        return
    _print_result(result, show, total)
    console.print(
        f"web pages were at {result.service_url}/web while the demo ran; "
        "run `matcher demo --serve` to keep them open and click through the round"
    )


def _serve(result: DemoResult, show: int, started: float, status: Any) -> None:
    """Print the demo's tables, then the pages' address and tokens; serve until Ctrl-C."""
    status.stop()
    _print_result(result, show, time.perf_counter() - started, serving=True)
    console.print(f"web pages: {result.service_url}/web (synthetic demo data only); sign in with")
    tokens = {"coordinator": result.coordinator_token, **result.agency_tokens}
    for who, token in tokens.items():
        console.print(f"  {who:<13} {token}", soft_wrap=True, highlight=False)
    console.print(f"serving {result.service_url}/web; press Ctrl-C to stop")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopping the service")


def _print_result(result: DemoResult, show: int, total: float, *, serving: bool = False) -> None:
    """The stewards', agencies' and coordinator's tables and the linkage quality."""

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
    elif serving:
        console.print("workspace, database and key are deleted when the service stops")
    else:
        console.print("workspace, database and key deleted")


def register(app: typer.Typer) -> None:
    """Attach `matcher demo`."""
    app.command("demo")(demo_command)
