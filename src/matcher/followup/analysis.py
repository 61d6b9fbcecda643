"""The retrospective analysis round: what preceded an outcome, as aggregated statistics only.

Agencies' historic signals and one outcome list (any dated event list, e.g. placements), already
linked to a shared opaque ``key`` per child, go in; only suppressed counts, shares and quantiles
come out - never a key, a case or a list of children. Among children with the outcome: the share
with earlier signals at each agency and at two or more, the lead time from the first signal to the
outcome in months, and the commonest orders of first signals. The same figures (with the time from
the first signal to a second agency's in place of the lead time) describe children with signals at
two or more agencies who did not get the outcome in the period.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import polars as pl

from matcher.errors import ConfigError
from matcher.followup.suppression import Ledger
from matcher.steward.hashed_file import HashedFile

MONTH_BINS: tuple[int, ...] = (0, 3, 6, 12, 24, 36, 48, 60)
"""Lower edges (months) of the lead-time histogram; the last bin is open-ended."""

OUTCOME = "outcome"
COMPARISON = "comparison"


@dataclass(frozen=True)
class AnalysisInput:
    """Linked signals (``key``, ``agency``, ``date``) and outcomes (``key``, ``date``)."""

    signals: pl.DataFrame
    outcomes: pl.DataFrame


def _check(frame: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(f"the {what} list lacks a required column", column=missing[0])
    if frame.schema["date"] != pl.Date:
        raise ConfigError(f"the {what} list's dates must be dates", column="date")


def _bin_label(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else f"{lo}-{hi}"


BIN_LABELS: tuple[str, ...] = tuple(
    _bin_label(lo, MONTH_BINS[i + 1] if i + 1 < len(MONTH_BINS) else None)
    for i, lo in enumerate(MONTH_BINS)
)


def _months_bin(days: pl.Expr) -> pl.Expr:
    """Index into MONTH_BINS of a day count, in average months."""
    months = days / 30.4375
    out = pl.lit(0, dtype=pl.Int32)
    for i, edge in enumerate(MONTH_BINS[1:], start=1):
        out = pl.when(months >= edge).then(pl.lit(i, dtype=pl.Int32)).otherwise(out)
    return out


def child_profiles(data: AnalysisInput, agencies: Sequence[str]) -> pl.DataFrame:
    """One row per child: group, agency bitmask, time bin, order of first signals, lead per agency.

    Signals on or after a child's outcome date do not count: only what preceded it.
    """
    _check(data.signals, ("key", "agency", "date"), "signal")
    _check(data.outcomes, ("key", "date"), "outcome")
    bit = {a: 1 << i for i, a in enumerate(agencies)}
    if set(data.signals["agency"].unique().to_list()) - set(bit):
        raise ConfigError("a signal names an agency outside the round", column="agency")
    outcomes = data.outcomes.group_by("key").agg(pl.col("date").min().alias("outcome"))
    first = (
        data.signals.lazy()
        .join(outcomes.lazy(), on="key", how="left")
        .filter(pl.col("outcome").is_null() | (pl.col("date") < pl.col("outcome")))
        .group_by("key", "agency")
        .agg(pl.col("date").min().alias("first"), pl.col("outcome").first())
        .sort("key", "first", "agency")
        .group_by("key", maintain_order=True)
        .agg(
            pl.col("agency").replace_strict(bit, return_dtype=pl.Int64).sum().alias("mask"),
            pl.col("first").min().alias("first_any"),
            pl.col("first").get(1, null_on_oob=True).alias("second"),
            pl.col("agency").str.join(" > ").alias("order"),
            pl.col("outcome").first(),
            pl.struct("agency", "first").alias("firsts"),
        )
        .collect()
    )
    with_outcome = outcomes.join(first.drop("outcome"), on="key", how="left").with_columns(
        pl.lit(OUTCOME).alias("group"),
        pl.col("mask").fill_null(0),
        pl.col("order").fill_null("(no earlier signal)"),
        pl.when(pl.col("first_any").is_null())
        .then(pl.lit(-1, dtype=pl.Int32))
        .otherwise(_months_bin((pl.col("outcome") - pl.col("first_any")).dt.total_days()))
        .alias("bin"),
    )
    comparison = first.filter(
        pl.col("outcome").is_null() & (pl.col("mask").bitwise_count_ones() >= 2)
    ).with_columns(
        pl.lit(COMPARISON).alias("group"),
        _months_bin((pl.col("second") - pl.col("first_any")).dt.total_days()).alias("bin"),
    )
    cols = ["group", "mask", "bin", "order", "first_any", "outcome", "second", "firsts"]
    return pl.concat([with_outcome.select(cols), comparison.select(cols)], how="vertical_relaxed")


def _quantiles(values: pl.Series, shown_n: int | str) -> dict[str, int | str | float | None]:
    """Quartiles and median of a series, with its count as the ledger published it.

    The quantiles are withheld whenever that count is (primary or complementary) suppressed.
    """
    if not isinstance(shown_n, int) or shown_n == 0:
        return {"n": shown_n, "q1": None, "median": None, "q3": None}
    qs = [round(float(values.quantile(q, "nearest") or 0.0), 1) for q in (0.25, 0.5, 0.75)]
    return {"n": shown_n, "q1": qs[0], "median": qs[1], "q3": qs[2]}


def _orders(frame: pl.DataFrame, threshold: int, top: int) -> list[dict[str, Any]]:
    """The commonest orders of first signals; rarer ones pooled so the pool is 0 or >= threshold."""
    counts = frame.group_by("order").len().sort(["len", "order"], descending=[True, False])
    shown = [(o, n) for o, n in counts.iter_rows() if n >= threshold][:top]
    other = frame.height - sum(n for _, n in shown)
    while 0 < other < threshold and shown:
        other += shown.pop()[1]
    rows = [{"order": o, "children": n} for o, n in shown]
    if other:
        rows.append(
            {
                "order": "(other orders)",
                "children": other if other >= threshold else f"<{threshold}",
            }
        )
    return rows


def analyse(
    data: AnalysisInput, agencies: Sequence[str], *, threshold: int = 5, top_orders: int = 10
) -> dict[str, Any]:
    """Aggregated statistics of an analysis round, suppressed; JSON-ready, no keys in it."""
    if len(agencies) > 20:
        raise ConfigError("an analysis round takes at most 20 agencies", reason="agencies")
    kids = child_profiles(data, agencies)
    out: dict[str, Any] = {
        "threshold": threshold,
        "agencies": list(agencies),
        "bins_months": list(BIN_LABELS),
    }
    for group in (OUTCOME, COMPARISON):
        g = kids.filter(pl.col("group") == group)
        atoms_frame = g.group_by("mask", "bin").len()
        atoms: dict[tuple[int, int], int] = {(m, b): n for m, b, n in atoms_frame.iter_rows()}
        ledger = Ledger(cast(dict[Hashable, int], atoms), threshold)
        every = frozenset(atoms)
        cells: list[tuple[tuple[Hashable, ...], frozenset[Hashable]]] = [(("children",), every)]
        cells += [
            (("signal_at", a), frozenset(k for k in atoms if k[0] & (1 << i)))
            for i, a in enumerate(agencies)
        ]
        cells.append((("two_or_more",), frozenset(k for k in atoms if k[0].bit_count() >= 2)))
        cells.append((("with_signal",), frozenset(k for k in atoms if k[1] >= 0)))
        cells += [
            (("bin", label), frozenset(k for k in atoms if k[1] == i))
            for i, label in enumerate(BIN_LABELS)
        ]
        shown = {c.label: c.shown(threshold) for c in ledger.publish(cells)}
        lead = (
            (g["outcome"] - g["first_any"]) if group == OUTCOME else (g["second"] - g["first_any"])
        ).dt.total_days().drop_nulls() / 30.4375
        per_agency: dict[str, Any] = {}
        if group == OUTCOME:
            firsts = g.select("outcome", "firsts").explode("firsts").unnest("firsts").drop_nulls()
            for a in agencies:
                sub = firsts.filter(pl.col("agency") == a)
                per_agency[a] = _quantiles(
                    (sub["outcome"] - sub["first"]).dt.total_days() / 30.4375,
                    shown[("signal_at", a)],
                )
        out[group] = {
            "children": shown[("children",)],
            "signal_at": {a: shown[("signal_at", a)] for a in agencies},
            "two_or_more_agencies": shown[("two_or_more",)],
            "months_histogram": {label: shown[("bin", label)] for label in BIN_LABELS},
            "months_quartiles": _quantiles(lead, shown[("with_signal",)]),
            "months_quartiles_per_agency": per_agency,
            "orders": _orders(g, threshold, top_orders),
            "measure": "first signal to outcome"
            if group == OUTCOME
            else "first signal to a second agency",
        }
    return out


def analysis_input(files: Sequence[HashedFile], clusters: pl.DataFrame) -> AnalysisInput:
    """Signals and outcomes keyed by linked cluster, from a round's hashed files and clusters.

    A file is an outcome list when its header says ``list_kind = "outcomes"``; records without a
    date are left out (nothing to order them by).
    """
    kinds = {f.header.list_kind for f in files}
    if kinds != {"signals", "outcomes"}:
        raise ConfigError(
            "an analysis needs signal lists and at least one outcome list", reason="list_kind"
        )
    frames = [
        f.frame.select("agency", "ref", pl.col("signal_date").alias("date")).with_columns(
            pl.lit(f.header.list_kind).alias("kind")
        )
        for f in files
    ]
    records = (
        pl.concat(frames)
        .join(clusters.select("agency", "ref", "cluster_id"), on=["agency", "ref"], how="inner")
        .filter(pl.col("date").is_not_null())
        .select(pl.col("cluster_id").alias("key"), "agency", "date", "kind")
    )
    signals = records.filter(pl.col("kind") == "signals").drop("kind")
    outcomes = records.filter(pl.col("kind") == "outcomes").select("key", "date")
    return AnalysisInput(signals, outcomes)


def analyse_hashed(
    files: Sequence[HashedFile], *, threshold: int = 5, top_orders: int = 10
) -> dict[str, Any]:
    """Link an analysis round's hashed files and return its aggregated statistics only."""
    from matcher.linkage.linkage import link

    result = link(files)
    data = analysis_input(files, result.clusters)
    agencies = sorted({f.header.agency for f in files if f.header.list_kind == "signals"})
    return analyse(data, agencies, threshold=threshold, top_orders=top_orders)
