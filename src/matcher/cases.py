"""Cases: children (clusters) flagged by at least ``k`` distinct agencies inside a time window.

A record counts towards a case when its signal date lies in ``[window_from, window_to]``
(both ends inclusive, either may be open). A record with no signal date counts only when no
window is set at all: once a coordinator asks for a window, an undated signal cannot be shown
to fall inside it. So widening the window (or dropping it) never removes a case, and raising
``k`` never adds one. A case lists only the records that count (its evidence).

Case ids (``C-00001``…) are pseudonymous: cases are numbered after sorting them by a BLAKE2b
digest of their sorted member (agency, ref) pairs. Refs are random, so the numbering carries
no information about agencies, rows or people, and the same input gives the same ids whatever
the order of its files and rows.
"""

from __future__ import annotations

import hashlib
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
    counted = records.filter(in_window(window_from, window_to))
    wanted = (
        counted.group_by("cluster_id")
        .agg(pl.col("agency").n_unique().alias("n_agencies"))
        .filter(pl.col("n_agencies") >= k)
        .select("cluster_id")
    )
    rows = counted.join(wanted, on="cluster_id", how="semi").sort("cluster_id", "agency", "ref")
    if rows.height == 0:
        return pl.DataFrame(schema=CASE_SCHEMA)
    keys = (
        rows.group_by("cluster_id", maintain_order=True)
        .agg(pl.concat_str("agency", "ref", separator="\x1f").alias("members"))
        .with_columns(
            digest=pl.col("members").map_elements(_digest, return_dtype=pl.Binary),
        )
        .sort("digest")
        .with_row_index("number", offset=1)
    )
    width = max(5, len(str(keys.height)))
    keys = keys.select(
        "cluster_id",
        case_id=pl.format("C-{}", pl.col("number").cast(pl.Utf8).str.zfill(width)),
    )
    return (
        rows.join(keys, on="cluster_id")
        .select(list(CASE_SCHEMA))
        .cast(CASE_SCHEMA)  # type: ignore[arg-type]
        .sort("case_id", "agency", "ref")
    )


def _digest(members: pl.Series) -> bytes:
    """Order-free digest of one case's members (sorted, then hashed)."""
    joined = "\x1e".join(sorted(members.to_list()))
    return hashlib.blake2b(joined.encode(), digest_size=16).digest()


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
