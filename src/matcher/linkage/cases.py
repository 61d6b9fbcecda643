"""Cases: children (clusters) flagged by at least ``k`` distinct agencies inside a time window.

A record counts towards a case when its signal date lies in ``[window_from, window_to]``
(both ends inclusive, either may be open). A record with no signal date counts only when no
window is set at all: once a coordinator asks for a window, an undated signal cannot be shown
to fall inside it. So widening the window (or dropping it) never removes a case, and raising
``k`` never adds one. A case lists only the records that count (its evidence).

Case ids (``C-00001``…) are pseudonymous: cases are numbered in the order of the smallest
64-bit FNV-1a hash of their member refs. Refs are random opaque strings, so this order is a
random permutation of the cases that carries nothing about agencies, rows or people, and the
same input gives the same ids whatever the order of its files and rows, in any version.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
import polars as pl

from matcher._arrow import utf8_buffers
from matcher.errors import ConfigError, LinkageError
from matcher.kernels import linkage as _kernels

CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Utf8(),
    "agency": pl.Utf8(),
    "ref": pl.Utf8(),
    "signal": pl.Utf8(),
    "signal_date": pl.Date(),
    "strength": pl.Utf8(),
}
#: How strongly a case's records are one child, coarsest first (never a score): one identity
#: number; identity numbers and exact names with the birth date; a probable link the meeting
#: should confirm in person. Indexed by ``linkage.cluster_strength``'s codes.
STRENGTH_NAMES: tuple[str, ...] = ("identity number", "names and birth date", "probable")
CaseStrength = Literal["identity number", "names and birth date", "probable"]

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
    """Case rows (case_id, agency, ref, signal, signal_date) from records with a cluster_id.

    Rows come sorted by case, then agency, then ref, whatever the input order.
    """
    check_window(k, window_from, window_to)
    return cases_from_sorted(
        records.sort("agency", "ref"), k=k, window_from=window_from, window_to=window_to
    )


def cases_from_sorted(
    records: pl.DataFrame,
    *,
    k: int = 2,
    window_from: date | None = None,
    window_to: date | None = None,
) -> pl.DataFrame:
    """:func:`find_cases` for records already sorted by agency, then ref (as ``link`` keeps them).

    Counting runs in one pass over integer codes (``_kernels.cluster_agencies``) and rows are
    grouped by a counting sort, so the cost is linear in the number of records.
    """
    check_window(k, window_from, window_to)
    if records.height == 0:
        return pl.DataFrame(schema=CASE_SCHEMA)
    labels = records["cluster_id"].to_numpy().astype(np.int64)
    if labels.min() < 0:
        raise LinkageError("cluster ids must be non-negative", column="cluster_id")
    n_clusters = int(labels.max()) + 1
    agencies = records["agency"].rle_id().to_numpy().astype(np.int64)
    counted = records.select(in_window(window_from, window_to)).to_series().to_numpy()
    counted = np.broadcast_to(counted, (records.height,)).astype(np.bool_)
    if records["ref"].null_count():
        raise LinkageError("refs must not be missing", column="ref", reason="null")
    ref_hash = _kernels.hash_strings(*utf8_buffers(records["ref"]))
    n_agencies, key = _kernels.cluster_agencies(labels, agencies, counted, ref_hash, n_clusters)
    case_clusters = np.flatnonzero(n_agencies >= k)
    if case_clusters.size == 0:
        return pl.DataFrame(schema=CASE_SCHEMA)
    order = case_clusters[np.lexsort((case_clusters, key[case_clusters]))]
    number = np.full(n_clusters, -1, np.int64)
    number[order] = np.arange(order.size)
    row_number = np.where(counted, number[labels], -1)
    rows = _kernels.group_rows(row_number, order.size)
    width = max(5, len(str(order.size)))
    ids = pl.select(
        case_id=pl.format("C-{}", pl.int_range(1, order.size + 1).cast(pl.Utf8).str.zfill(width))
    ).to_series()
    if "strength" not in records.columns:
        records = records.with_columns(strength=pl.lit(None, pl.Utf8))
    return (
        records.select("agency", "ref", "signal", "signal_date", "strength")[rows]
        .with_columns(ids.gather(row_number[rows]))
        .select(list(CASE_SCHEMA))
        .cast(CASE_SCHEMA)
    )


def summarise_cases(cases: pl.DataFrame) -> pl.DataFrame:
    """Per case: the agencies and signal categories involved, and counts (no refs).

    Works on consecutive runs of case ids (``find_cases`` sorts its rows by case, then agency).
    """
    if cases.height == 0:
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    if not cases["case_id"].is_sorted():
        cases = cases.sort("case_id", "agency")
    rows = cases.select(
        "case_id", "agency", "signal", case=pl.col("case_id").rle_id().cast(pl.Int64)
    )
    new_agency = (pl.col("case") != pl.col("case").shift()) | (
        pl.col("agency") != pl.col("agency").shift()
    )
    per_case = rows.group_by("case", maintain_order=True).agg(
        pl.col("case_id").first(), n_records=pl.len().cast(pl.UInt32)
    )
    agencies = (
        rows.filter(new_agency.fill_null(True))
        .group_by("case", maintain_order=True)
        .agg(agencies=pl.col("agency"), n_agencies=pl.len().cast(pl.UInt32))
    )
    signals = (
        rows.select("case", "signal")
        .drop_nulls()
        .unique()
        .sort("case", "signal")
        .group_by("case", maintain_order=True)
        .agg(signals=pl.col("signal"))
    )
    return (
        per_case.join(agencies, on="case", maintain_order="left")
        .join(signals, on="case", how="left", maintain_order="left")
        .with_columns(pl.col("signals").fill_null([]))
        .select(list(SUMMARY_SCHEMA))
        .cast(SUMMARY_SCHEMA)  # type: ignore[arg-type]
    )
