"""Cases: children (clusters) flagged by at least ``k`` distinct agencies inside a time window.

A record counts towards a case when its signal date lies in ``[window_from, window_to]``
(both ends inclusive, either may be open). A record with no signal date counts only when no
window is set at all: once a coordinator asks for a window, an undated signal cannot be shown
to fall inside it. So widening the window (or dropping it) never removes a case, and raising
``k`` never adds one. A case lists only the records that count (its evidence).

Case ids (``C-00001``…) are pseudonymous: cases are numbered in the order of the smallest
hash of their member refs. Refs are random opaque strings, so this order is a random
permutation of the cases that carries nothing about agencies, rows or people, and the same
input gives the same ids whatever the order of its files and rows (polars' hash is fixed
within a polars version; ids are not promised to survive an upgrade).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from matcher.errors import ConfigError

CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Utf8(),
    "agency": pl.Utf8(),
    "ref": pl.Utf8(),
    "signal": pl.Utf8(),
    "signal_date": pl.Date(),
}

_SEED = 0x5EED

SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Utf8(),
    "agencies": pl.List(pl.Utf8()),
    "signals": pl.List(pl.Utf8()),
    "n_agencies": pl.UInt32(),
    "n_records": pl.UInt32(),
}


def check_window(k: int, window_from: date | None, window_to: date | None) -> None:
    """Refuse a k below 1 or a window that ends before it starts."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError("k must be a whole number of agencies, at least 1", reason="k")
    if window_from is not None and window_to is not None and window_from > window_to:
        raise ConfigError("the window ends before it starts", reason="window")


def in_window(window_from: date | None, window_to: date | None) -> pl.Expr:
    """Whether a record's signal counts in the window (see the module docstring for nulls)."""
    if window_from is None and window_to is None:
        return pl.lit(True)
    counts = pl.col("signal_date").is_not_null()
    if window_from is not None:
        counts = counts & (pl.col("signal_date") >= window_from)
    if window_to is not None:
        counts = counts & (pl.col("signal_date") <= window_to)
    return counts


def find_cases(
    records: pl.DataFrame,
    *,
    k: int = 2,
    window_from: date | None = None,
    window_to: date | None = None,
) -> pl.DataFrame:
    """Case rows (case_id, agency, ref, signal, signal_date) from records with a cluster_id."""
    check_window(k, window_from, window_to)
    counted = records.filter(in_window(window_from, window_to)).with_columns(
        _agency=pl.col("agency").hash(_SEED), _ref=pl.col("ref").hash(_SEED)
    )
    keys = (
        counted.group_by("cluster_id")
        .agg(pl.col("_agency").n_unique().alias("_agencies"), pl.col("_ref").min().alias("_key"))
        .filter(pl.col("_agencies") >= k)
        .sort("_key", "cluster_id")
        .with_row_index("_number", offset=1)
    )
    if keys.height == 0:
        return pl.DataFrame(schema=CASE_SCHEMA)
    width = max(5, len(str(keys.height)))
    return (
        counted.join(keys.select("cluster_id", "_number"), on="cluster_id")
        .sort("_number", "agency", "ref")
        .with_columns(case_id=pl.format("C-{}", pl.col("_number").cast(pl.Utf8).str.zfill(width)))
        .select(list(CASE_SCHEMA))
        .cast(CASE_SCHEMA)  # type: ignore[arg-type]
    )


def summarise_cases(cases: pl.DataFrame) -> pl.DataFrame:
    """Per case: the agencies and signal categories involved, and counts (no refs)."""
    if cases.height == 0:
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    return (
        cases.group_by("case_id")
        .agg(
            agencies=pl.col("agency").unique().sort(),
            signals=pl.col("signal").drop_nulls().unique().sort(),
            n_agencies=pl.col("agency").n_unique().cast(pl.UInt32),
            n_records=pl.len().cast(pl.UInt32),
        )
        .sort("case_id")
        .cast(SUMMARY_SCHEMA)  # type: ignore[arg-type]
    )
