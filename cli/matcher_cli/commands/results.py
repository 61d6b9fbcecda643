"""`matcher results`: download this agency's case view and turn refs into its own record ids.

The join with the local map happens here, on the steward's machine: only refs and case ids
cross the network, and the meeting list with record ids never leaves the agency.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import typer

from matcher._files import write_atomic
from matcher.errors import ConfigError, InputFileError, MissingColumnError, OutputExistsError
from matcher_cli.console import console, reported_errors

MAP_COLUMNS = ("ref", "record_id", "row")


def view_rows(view: dict[str, Any]) -> pl.DataFrame:
    """One row per own record in a case, with the other agencies (and categories if shown)."""
    rows = []
    for case in view["cases"]:
        others = case["others"]
        agencies = ", ".join(o["agency"] for o in others)
        signals = "; ".join(
            f"{o['agency']}: {', '.join(o['signals'])}" for o in others if o.get("signals")
        )
        for record in case["records"]:
            rows.append(
                {
                    "case_id": case["case_id"],
                    "ref": record["ref"],
                    "signal": record.get("signal"),
                    "signal_date": record.get("signal_date"),
                    "other_agencies": agencies,
                    "other_signals": signals or None,
                }
            )
    schema = {
        "case_id": pl.Utf8,
        "ref": pl.Utf8,
        "signal": pl.Utf8,
        "signal_date": pl.Utf8,
        "other_agencies": pl.Utf8,
        "other_signals": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema)


def meeting_list(view: dict[str, Any], local_map: pl.DataFrame, policy: str) -> pl.DataFrame:
    """Join the downloaded view with the local map: case id -> this agency's own record ids."""
    rows = view_rows(view)
    joined = rows.join(local_map.select(MAP_COLUMNS), on="ref", how="left")
    missing = joined["record_id"].null_count()
    if missing:
        raise ConfigError(
            f"{missing} refs in the results are not in the map; use the map written when this "
            "round's file was hashed",
            reason="map_mismatch",
        )
    columns = ["case_id", "record_id", "row", "signal", "signal_date", "other_agencies"]
    if policy == "agencies_and_categories":
        columns.append("other_signals")
    return joined.select(columns).sort(["case_id", "row"])


def read_map(path: Path) -> pl.DataFrame:
    """The steward's local map (Parquet with ref, record_id, row)."""
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:
        raise InputFileError("cannot read the local map (Parquet expected)", file=path) from exc
    for column in MAP_COLUMNS:
        if column not in frame.columns:
            raise MissingColumnError("the local map lacks a column", file=path, column=column)
    return frame.with_columns(pl.col("ref").cast(pl.Utf8))


def write_meeting_list(frame: pl.DataFrame, out: Path) -> None:
    """Write CSV (UTF-8 with BOM, for Excel) or .xlsx atomically."""
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        write_atomic(out, lambda tmp: frame.write_excel(tmp, worksheet="cases", autofit=True))
    elif suffix == ".csv":
        write_atomic(out, lambda tmp: frame.write_csv(tmp, include_bom=True))
    else:
        raise ConfigError("--out must end in .csv or .xlsx", reason="out_format")


def results_command(
    round_id: str = typer.Option(..., "--round", help="Round id."),
    map_path: Path = typer.Option(
        ..., "--map", exists=True, dir_okay=False, help="The local map written by `matcher hash`."
    ),
    out: Path = typer.Option(..., "--out", help="Meeting list to write: .csv or .xlsx."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out file."),
    token: str | None = typer.Option(
        None, "--token", help="This agency's token (or MATCHER_TOKEN)."
    ),
    server: str | None = typer.Option(None, "--server", help="Service URL (or MATCHER_SERVER)."),
) -> None:
    """Fetch this agency's cases and write a meeting list of its own record ids per case."""
    with reported_errors():
        from matcher_cli.client import MatcherClient, client_settings

        if out.suffix.lower() not in (".csv", ".xlsx"):
            raise ConfigError("--out must end in .csv or .xlsx", reason="out_format")
        if out.exists() and not overwrite:
            raise OutputExistsError("output file exists; pass --overwrite to replace it", file=out)
        local_map = read_map(map_path)
        with MatcherClient(client_settings(server, token)) as client:
            view = client.own_results(round_id)
        frame = meeting_list(view, local_map, view["disclosure_policy"])
        write_meeting_list(frame, out)
        cases = frame["case_id"].n_unique()
        console.print(
            f"{cases} cases with {frame.height} of your records written to {out} "
            f"(agency {view['agency']}, round {round_id})"
        )


def register(app: typer.Typer) -> None:
    """Attach `matcher results`."""
    app.command("results")(results_command)
