"""`matcher report followup|analysis`: suppressed statistics as JSON, Excel and PNG charts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from matcher.errors import ConfigError
from matcher_cli.commands.round import ServerOption, TokenOption
from matcher_cli.console import console, reported_errors
from matcher_cli.options import parse_day

report_app = typer.Typer(help="Follow-up report over rounds; retrospective analysis statistics.")


@report_app.command("followup")
def followup(
    out: Path = typer.Option(..., "--out", help="Folder for report.json/.xlsx and charts."),
    rounds: list[str] | None = typer.Option(None, "--round", help="A round to report (repeat)."),
    start: str | None = typer.Option(None, "--from", help="Rounds opened on or after this day."),
    end: str | None = typer.Option(None, "--to", help="Rounds opened on or before this day."),
    within_days: int = typer.Option(30, "--within-days"),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """The service's follow-up report over rounds (named, or opened within --from/--to): cases
    by agencies and combination, records per agency, shares and times, small counts suppressed."""
    from matcher.followup.outputs import report_charts, write_json, write_report_xlsx
    from matcher_cli.client import MatcherClient, client_settings

    with reported_errors():
        lo = parse_day(start, "--from") or date.min
        hi = parse_day(end, "--to") or date.max
        with MatcherClient(client_settings(server, token)) as client:
            chosen = list(rounds or [])
            if not chosen:
                chosen = [
                    r["id"]
                    for r in client.list_rounds()
                    if r.get("kind", "signals") == "signals"
                    and lo <= date.fromisoformat(r["created_at"][:10]) <= hi
                ]
            if not chosen:
                raise ConfigError("no signal round was opened in this period", reason="empty")
            rep = client.followup_report(chosen, within_days)
        out.mkdir(parents=True, exist_ok=True)
        write_json(rep, out / "report.json")
        write_report_xlsx(rep, out / "report.xlsx")
        charts = report_charts(rep, out)
        console.print(f"wrote report.json, report.xlsx and {len(charts)} charts to {out}")


@report_app.command("analysis")
def analysis(
    signals: list[Path] = typer.Option(..., "--signals", help="Linked signals: key, agency, date."),
    outcomes: Path = typer.Option(..., "--outcomes", help="Linked outcomes: key, date."),
    out: Path = typer.Option(..., "--out"),
    threshold: int = typer.Option(5, "--threshold"),
) -> None:
    """Aggregated statistics of an analysis round from linked parquet files (no list out)."""
    import polars as pl

    from matcher.followup.analysis import AnalysisInput, analyse
    from matcher.followup.outputs import analysis_charts, write_json

    with reported_errors():
        try:
            sig = pl.concat([pl.read_parquet(p) for p in signals])
            outc = pl.read_parquet(outcomes)
        except (OSError, pl.exceptions.PolarsError):
            raise ConfigError("cannot read a signal or outcome file") from None
        agencies = sorted(sig["agency"].unique().to_list()) if "agency" in sig.columns else []
        res = analyse(AnalysisInput(sig, outc), agencies, threshold=threshold)
        out.mkdir(parents=True, exist_ok=True)
        write_json(res, out / "analysis.json")
        charts = analysis_charts(res, out)
        console.print(json.dumps(res["outcome"]["signal_at"]))
        console.print(f"wrote analysis.json and {len(charts)} charts to {out}")


def register(app: typer.Typer) -> None:
    """Attach `matcher report ...`."""
    app.add_typer(report_app, name="report")


def analysis_demo(*, children: int, seed: int, keep: Path | None) -> None:
    """`matcher demo --analysis`: synthetic five-year histories, linked, and their statistics."""
    import tempfile

    from rich.table import Table

    from matcher.evaluation.synth_histories import histories
    from matcher.followup.analysis import AnalysisInput, analyse
    from matcher.followup.outputs import analysis_charts, write_json

    with reported_errors():
        h = histories(children=max(children, 1000) * 5, seed=seed)
        res = analyse(AnalysisInput(h.signals, h.outcomes), h.agencies)
        console.print(
            f"analysis round: {h.signals.height:,} historic signals from {len(h.agencies)} "
            f"agencies, an outcome list (placements); only aggregates come back"
        )
        table = Table("", "with the outcome", "2+ agencies, no outcome", title="earlier signals")
        for group_key, label in (("children", "children"), ("two_or_more_agencies", "2+ agencies")):
            table.add_row(label, str(res["outcome"][group_key]), str(res["comparison"][group_key]))
        for a in h.agencies:
            table.add_row(
                f"signal at {a}",
                str(res["outcome"]["signal_at"][a]),
                str(res["comparison"]["signal_at"][a]),
            )
        console.print(table)
        q = res["outcome"]["months_quartiles"]
        console.print(
            f"months from first signal to outcome: median {q['median']}, "
            f"quartiles {q['q1']}-{q['q3']}"
        )
        orders = Table("order of first signals", "children", title="commonest paths to the outcome")
        for row in res["outcome"]["orders"][:6]:
            orders.add_row(row["order"], str(row["children"]))
        console.print(orders)
        out = keep or Path(tempfile.mkdtemp(prefix="matcher-analysis-"))
        out.mkdir(parents=True, exist_ok=True)
        write_json(res, out / "analysis.json")
        charts = analysis_charts(res, out)
        console.print(f"analysis.json and {len(charts)} charts in {out}")
