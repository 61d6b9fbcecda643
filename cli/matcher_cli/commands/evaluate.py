"""`matcher evaluate`: linkage quality of predicted clusters against a synthetic ground truth.

Prints pairwise precision, recall and F1 over cross-agency record pairs, case-level precision
and recall, a breakdown by error type, and (with ``--sweep``) how they move with the fuzzy
threshold, with a PNG plot. Only counts and ratios are printed.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import typer
from rich.table import Table

from matcher.errors import ConfigError
from matcher_cli.console import console, err_console, progress, reported_errors
from matcher_cli.options import parse_day

DEFAULT_THRESHOLDS = "0.6,0.65,0.7,0.75,0.8,0.85,0.9,0.95"


def _parse_thresholds(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(
            "--thresholds takes numbers like 0.7,0.8,0.9", reason="thresholds"
        ) from None
    if not values or any(not 0 < v <= 1 for v in values):
        raise ConfigError("thresholds must lie in (0, 1]", reason="thresholds")
    return values


def read_hashed_files(paths: list[Path]) -> list[Any]:
    """Hashed files named directly, plus every hashed file inside folders named."""
    from matcher.errors import HashedFileError
    from matcher.steward.hashed_file import read_hashed

    files = []
    for path in paths:
        if not path.is_dir():
            files.append(read_hashed(path))
            continue
        for candidate in sorted(path.glob("*.parquet")):
            try:
                files.append(read_hashed(candidate))
            except HashedFileError:
                continue  # a local map, truth or clusters file beside the hashed files
    if not files:
        raise ConfigError("--sweep found no hashed files", reason="no_hashed")
    return files


def summary_table(result: Any, title: str = "linkage quality") -> Table:
    """Pairwise and case figures of an evaluation as a table.

    ``result`` is a :class:`~matcher.evaluation.evaluation.Evaluation`.
    """
    pairs, cases = result.pairs, result.cases
    table = Table(title=title, title_justify="left", show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("counts", justify="right")
    table.add_row("records", f"{result.records:,}", "")
    table.add_row(
        "pairwise precision",
        f"[bold]{pairs.precision:.4f}[/]",
        f"{pairs.correct_pairs:,} of {pairs.predicted_pairs:,} predicted pairs",
    )
    table.add_row(
        "pairwise recall",
        f"[bold]{pairs.recall:.4f}[/]",
        f"{pairs.correct_pairs:,} of {pairs.true_pairs:,} true pairs",
    )
    table.add_row("pairwise F1", f"{pairs.f1:.4f}", "cross-agency pairs only")
    table.add_row(
        f"case precision (k={cases.k})",
        f"{cases.precision:.4f}",
        f"{cases.correct_cases:,} of {cases.predicted_cases:,} cases are one child",
    )
    table.add_row(
        f"case recall (k={cases.k})",
        f"{cases.recall:.4f}",
        f"{cases.found_cases:,} of {cases.true_cases:,} children on >= {cases.k} lists",
    )
    return table


def breakdown_table(frame: pl.DataFrame) -> Table:
    """Recall and false links per error type and identity kind."""
    table = Table(title="by error type (pairs with at least one such record)", title_justify="left")
    table.add_column("group")
    table.add_column("label", no_wrap=True, min_width=22)
    for column in ("records", "true pairs", "missed", "recall", "false pairs"):
        table.add_column(column, justify="right")
    for row in frame.iter_rows(named=True):
        recall = row["recall"]
        style = "" if recall >= 0.97 else "[yellow]" if recall >= 0.9 else "[red]"
        table.add_row(
            row["group"],
            row["label"],
            f"{row['records']:,}",
            f"{row['true_pairs']:,}",
            f"{row['missed_pairs']:,}",
            f"{style}{recall:.3f}",
            f"{row['false_pairs']:,}",
        )
    return table


def sweep_table(frame: pl.DataFrame, best: float | None) -> Table:
    """The threshold sweep, the chosen threshold marked."""
    table = Table(title="threshold sweep", title_justify="left")
    for column in ("threshold", "precision", "recall", "F1", "case P", "case R", "link s"):
        table.add_column(column, justify="right")
    for row in frame.iter_rows(named=True):
        mark = " *" if best is not None and row["threshold"] == best else ""
        table.add_row(
            f"{row['threshold']:.3f}{mark}",
            f"{row['precision']:.4f}",
            f"{row['recall']:.4f}",
            f"{row['f1']:.4f}",
            f"{row['case_precision']:.4f}",
            f"{row['case_recall']:.4f}",
            f"{row['link_seconds']:.2f}",
        )
    return table


def evaluate_command(
    truth: Path = typer.Option(..., "--truth", help="Truth file written by `matcher synth`."),
    clusters: Path | None = typer.Option(
        None,
        "--clusters",
        help="Clusters Parquet: (agency, record_id, cluster_id), or (agency, ref, cluster_id) "
        "with --maps (e.g. from `matcher link --clusters`).",
    ),
    maps: list[Path] = typer.Option(
        [], "--maps", help="Local maps (files or folders of *.parquet) turning refs into ids."
    ),
    sweep: list[Path] = typer.Option(
        [],
        "--sweep",
        help="Hashed files (or a folder of them) to link at each threshold; repeat the flag.",
    ),
    thresholds: str = typer.Option(
        DEFAULT_THRESHOLDS, "--thresholds", help="Comma-separated thresholds for --sweep."
    ),
    plot: Path | None = typer.Option(None, "--plot", help="PNG of precision/recall vs threshold."),
    k: int = typer.Option(2, "--k", help="Cases need at least k agencies."),
    window_from: str | None = typer.Option(None, "--window-from", help="YYYY-MM-DD"),
    window_to: str | None = typer.Option(None, "--window-to", help="YYYY-MM-DD"),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures as JSON."),
) -> None:
    """Precision, recall and F1 of linkage against the generator's truth."""
    with reported_errors():
        from matcher.evaluation import evaluation as ev

        if clusters is None and not sweep:
            raise ConfigError("give --clusters, or hashed files with --sweep", reason="inputs")
        start = parse_day(window_from, "--window-from")
        end = parse_day(window_to, "--window-to")
        window = (start or date.min, end or date.max) if (start or end) else None
        truth_frame = ev.read_truth(truth)
        local_maps = ev.read_local_maps(maps) if maps else None
        figures: dict[str, Any] = {}

        sweep_frame: pl.DataFrame | None = None
        best: float | None = None
        if sweep:
            if local_maps is None:
                raise ConfigError(
                    "--sweep needs --maps to turn refs into record ids", reason="maps"
                )
            from matcher.linkage.linkage import link

            files = read_hashed_files(sweep)
            values = _parse_thresholds(thresholds)
            with progress() as bar:
                task = bar.add_task("linking at each threshold", total=len(values))

                def link_at(threshold: float) -> pl.DataFrame:
                    """Clusters of the hashed files at one threshold, as record ids."""
                    result = link(files, k=k, window_from=start, window_to=end, threshold=threshold)
                    bar.advance(task)
                    return ev.resolve_refs(result.clusters, local_maps)

                sweep_frame = ev.sweep(link_at, values, truth_frame, k=k, window=window)
            best = ev.best_threshold(sweep_frame)
            figures["sweep"] = sweep_frame.to_dicts()
            figures["best_threshold"] = best
            if clusters is None and best is not None:
                predicted = link_at(best)
        if clusters is not None:
            try:
                predicted = pl.read_parquet(clusters)
            except (OSError, pl.exceptions.PolarsError) as exc:
                from matcher.errors import InputFileError

                raise InputFileError("cannot read the clusters file", file=clusters) from exc
            if "record_id" not in predicted.columns:
                if local_maps is None:
                    raise ConfigError("these clusters hold refs: pass --maps", reason="maps")
                predicted = ev.resolve_refs(predicted, local_maps)
        result = ev.evaluate(predicted, truth_frame, k=k, window=window)
        if plot is not None and sweep_frame is not None:
            ev.plot_sweep(sweep_frame, plot)

    label = "at the chosen threshold" if clusters is None else f"of {clusters.name}"
    console.print(summary_table(result, title=f"linkage quality {label}"))
    console.print(breakdown_table(result.by_error))
    if sweep_frame is not None:
        console.print(sweep_table(sweep_frame, best))
        if best is not None:
            console.print(f"chosen threshold (best F1 with precision >= 0.99): [bold]{best:g}[/]")
    if plot is not None:
        if sweep_frame is None:
            err_console.print("[yellow]note:[/] --plot needs --sweep; no plot written")
        else:
            err_console.print(f"wrote {plot}")
    if json_out is not None:
        figures.update(
            {
                "records": result.records,
                "pairwise": {
                    "precision": result.pairs.precision,
                    "recall": result.pairs.recall,
                    "f1": result.pairs.f1,
                    "true_pairs": result.pairs.true_pairs,
                    "predicted_pairs": result.pairs.predicted_pairs,
                    "correct_pairs": result.pairs.correct_pairs,
                },
                "cases": {
                    "k": result.cases.k,
                    "precision": result.cases.precision,
                    "recall": result.cases.recall,
                    "true_cases": result.cases.true_cases,
                    "predicted_cases": result.cases.predicted_cases,
                },
                "by_error": result.by_error.to_dicts(),
            }
        )
        json_out.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Attach `matcher evaluate`."""
    app.command("evaluate")(evaluate_command)
