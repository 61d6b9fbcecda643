"""Linkage quality against a ground truth: pairwise and case-level precision and recall.

Pairwise figures count *cross-agency* record pairs (two records of different agencies), the
pairs the product exists to find. They are counted without listing pairs: for a set of records
S split by agency into S_a, the cross-agency pairs inside S number (|S|² − Σ_a |S_a|²) / 2. Summed
over predicted clusters that gives the predicted pairs, over true children the true pairs, and
over the intersections (cluster, child) the correct pairs. Pairs involving a record with a given
error type are the pairs of a set minus the pairs of the same set without those records.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

import polars as pl

from matcher.errors import InputFileError, MissingColumnError
from matcher.extras import require_extra
from matcher.reidentify import read_map

__all__ = [
    "CaseCounts",
    "Evaluation",
    "PairCounts",
    "align",
    "best_threshold",
    "case_counts",
    "cross_pairs",
    "error_breakdown",
    "evaluate",
    "pair_counts",
    "plot_sweep",
    "read_local_maps",
    "read_truth",
    "resolve_refs",
    "sweep",
]

TRUTH_COLUMNS = ("agency", "record_id", "child_id", "error_types")


def _ratio(num: int, den: int) -> float:
    """num / den, with 1.0 for an empty denominator (nothing to find, nothing claimed)."""
    return num / den if den else 1.0


@dataclass(frozen=True)
class PairCounts:
    """Cross-agency pair counts and the precision, recall and F1 they give."""

    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        """Share of predicted cross-agency pairs that are the same child."""
        return _ratio(self.correct_pairs, self.predicted_pairs)

    @property
    def recall(self) -> float:
        """Share of true cross-agency pairs that were predicted."""
        return _ratio(self.correct_pairs, self.true_pairs)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class CaseCounts:
    """Case-level counts: children on at least k agencies' lists versus predicted cases.

    A predicted case (a cluster with records of at least k agencies) is correct when all its
    records belong to one child; a true case is found when some cluster holds that child's
    records from at least k agencies.
    """

    k: int
    true_cases: int
    predicted_cases: int
    correct_cases: int
    found_cases: int

    @property
    def precision(self) -> float:
        """Share of predicted cases that are one real child on k or more lists."""
        return _ratio(self.correct_cases, self.predicted_cases)

    @property
    def recall(self) -> float:
        """Share of children on k or more lists that a predicted case brings up."""
        return _ratio(self.found_cases, self.true_cases)


@dataclass(frozen=True)
class Evaluation:
    """Everything :func:`evaluate` measures."""

    records: int
    pairs: PairCounts
    cases: CaseCounts
    by_error: pl.DataFrame


def read_truth(path: Path | str) -> pl.DataFrame:
    """Read a truth file written by :mod:`matcher.evaluation.synth` and check its columns."""
    try:
        truth = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputFileError("cannot read the truth file (not Parquet?)", file=path) from exc
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise InputFileError(f"truth file lacks columns {missing}", file=path, reason="schema")
    return truth


def _is_map(path: Path) -> bool:
    """Whether a Parquet file in a folder looks like a local map (has ref and record_id)."""
    try:
        names = pl.read_parquet_schema(path)
    except (OSError, pl.exceptions.PolarsError):
        return False
    return "ref" in names and "record_id" in names


def read_local_maps(paths: Sequence[Path | str]) -> pl.DataFrame:
    """Concatenate local maps (``ref`` and ``record_id``), each read by `read_map`.

    A folder contributes its Parquet files that look like maps, so a folder that also holds
    hashed files or a truth file can be passed as it is; a file named directly must be a map.
    """
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend([f for f in sorted(p.glob("*.parquet")) if _is_map(f)] if p.is_dir() else [p])
    if not files:
        raise InputFileError("no local map files found", reason="no_maps")
    frames = []
    for f in files:
        try:
            local_map = read_map(f)
        except MissingColumnError as exc:
            if exc.column not in ("ref", "record_id"):
                raise
            # A hashed file named instead of its map: say which pair of columns evaluation needs.
            raise MissingColumnError(
                "local map lacks ref or record_id", file=f, column=exc.column, reason="schema"
            ) from exc
        frames.append(local_map.select("ref", "record_id"))
    return pl.concat(frames)


def resolve_refs(clusters: pl.DataFrame, maps: pl.DataFrame) -> pl.DataFrame:
    """Turn (agency, ref, cluster_id) into (agency, record_id, cluster_id) with local maps.

    Refs are random and unique across agencies, so maps join on ``ref`` (and on ``agency``
    too when the maps carry it). Every ref must be found.
    """
    on = ["agency", "ref"] if "agency" in maps.columns else ["ref"]
    if maps.select(on).is_duplicated().any():
        raise InputFileError("local maps hold a ref twice", reason="duplicate_ref")
    resolved = clusters.with_columns(pl.col("ref").cast(pl.String)).join(
        maps, on=on, how="left", maintain_order="left"
    )
    unknown = resolved["record_id"].null_count()
    if unknown:
        raise InputFileError(
            f"{unknown} refs in the clusters are in no local map", reason="unknown_ref"
        )
    return resolved.select("agency", "record_id", "cluster_id")


def align(predicted: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Join predicted clusters onto the truth: one row per truth record with integer ids.

    Columns: agency (UInt32 code), cluster (Int64), child (Int64), error_types, and id_kind and
    signal_date when the truth has them. Truth records missing from the prediction (for example
    rows rejected before hashing) become singleton clusters.
    """
    for c in ("agency", "record_id", "cluster_id"):
        if c not in predicted.columns:
            raise InputFileError(f"clusters lack column {c!r}", reason="schema")
    keys = ["agency", "record_id"]
    pred = predicted.select(
        pl.col("agency").cast(pl.String),
        pl.col("record_id").cast(pl.String),
        pl.col("cluster_id").rank("dense").cast(pl.Int64).alias("cluster"),
    )
    if pred.select(keys).is_duplicated().any():
        raise InputFileError("clusters list a record twice", reason="duplicate_record")
    extra = [c for c in ("id_kind", "signal_date") if c in truth.columns]
    base = truth.select(
        pl.col("agency").cast(pl.String),
        pl.col("record_id").cast(pl.String),
        pl.col("child_id").rank("dense").cast(pl.Int64).alias("child"),
        pl.col("error_types"),
        *extra,
    )
    unknown = pred.join(base, on=keys, how="anti").height
    if unknown:
        raise InputFileError(
            f"clusters hold {unknown} records that the truth file does not have",
            reason="unknown_record",
        )
    out = base.join(pred, on=keys, how="left", maintain_order="left")
    top = int(cast(int | None, out["cluster"].max()) or 0)
    singles = pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + top
    return out.with_columns(
        pl.col("cluster").fill_null(singles),
        pl.col("agency").rank("dense").cast(pl.UInt32),
    ).drop("record_id")


def cross_pairs(frame: pl.DataFrame, by: Sequence[str]) -> int:
    """Cross-agency pairs inside the groups of ``by``: Σ (|S|² − Σ_a |S_a|²) / 2."""
    if frame.height == 0:
        return 0
    per_agency = frame.group_by([*by, "agency"]).len()
    per_group = per_agency.group_by(list(by)).agg(
        s=pl.col("len").cast(pl.Int64).sum(), q=(pl.col("len").cast(pl.Int64) ** 2).sum()
    )
    return int(per_group.select(((pl.col("s") ** 2 - pl.col("q")) // 2).sum()).item())


def pair_counts(aligned: pl.DataFrame) -> PairCounts:
    """True, predicted and correct cross-agency pairs of an aligned frame."""
    return PairCounts(
        true_pairs=cross_pairs(aligned, ["child"]),
        predicted_pairs=cross_pairs(aligned, ["cluster"]),
        correct_pairs=cross_pairs(aligned, ["cluster", "child"]),
    )


def case_counts(
    aligned: pl.DataFrame, k: int = 2, window: tuple[date, date] | None = None
) -> CaseCounts:
    """Case precision and recall; with a window, only signals dated inside it count."""
    frame = aligned
    if window is not None and "signal_date" in frame.columns:
        frame = frame.filter(pl.col("signal_date").is_between(window[0], window[1]))
    true_cases = (
        frame.group_by("child").agg(pl.col("agency").n_unique().alias("n")).filter(pl.col("n") >= k)
    )
    clusters = frame.group_by("cluster").agg(
        pl.col("agency").n_unique().alias("n"), pl.col("child").n_unique().alias("children")
    )
    predicted = clusters.filter(pl.col("n") >= k)
    found = (
        frame.group_by("cluster", "child")
        .agg(pl.col("agency").n_unique().alias("n"))
        .filter(pl.col("n") >= k)["child"]
        .n_unique()
    )
    return CaseCounts(
        k=k,
        true_cases=true_cases.height,
        predicted_cases=predicted.height,
        correct_cases=predicted.filter(pl.col("children") == 1).height,
        found_cases=found,
    )


def _involving_by_label(labelled: pl.DataFrame, totals: pl.DataFrame, key: str) -> pl.DataFrame:
    """Per label: cross-agency pairs inside groups of ``key`` with at least one labelled record.

    ``labelled`` has one row per (record, label) with columns key, agency, label; ``totals`` one
    row per (key, agency) with its record count n. For a group g, removing the labelled records
    leaves s' = s - Σ_a m_a and q' = q - Σ_a (2 n_a m_a - m_a²); the pairs involving the label
    are (s² - q)/2 - (s'² - q')/2. All groups and labels in three group-bys, no loop.
    """
    per_group = totals.group_by(key).agg(s=pl.col("n").sum(), q=(pl.col("n") ** 2).sum())
    m = labelled.group_by(key, "agency", "label").agg(m=pl.len().cast(pl.Int64))
    m = m.join(totals, on=[key, "agency"], how="left")
    per_label = m.group_by(key, "label").agg(
        dm=pl.col("m").sum(), dq=(2 * pl.col("n") * pl.col("m") - pl.col("m") ** 2).sum()
    )
    per_label = per_label.join(per_group, on=key, how="left").with_columns(
        pairs=(
            (pl.col("s") ** 2 - pl.col("q"))
            - ((pl.col("s") - pl.col("dm")) ** 2 - (pl.col("q") - pl.col("dq")))
        )
        // 2
    )
    return per_label.group_by("label").agg(pl.col("pairs").sum())


def error_breakdown(aligned: pl.DataFrame, totals: PairCounts | None = None) -> pl.DataFrame:
    """Recall and false links per error type (pairs with at least one record of that type).

    One row per error label and per identity kind, plus ``(no error)`` for pairs of two clean
    records. Columns: group, label, records, true_pairs, found_pairs, missed_pairs, recall,
    false_pairs (predicted pairs of different children involving the label).
    """
    totals = totals or pair_counts(aligned)
    top_child = int(cast(int | None, aligned["child"].max()) or 0) + 1
    frame = aligned.with_columns(
        both=pl.col("cluster") * top_child + pl.col("child"),
        any=pl.col("error_types").list.len() > 0,
    )
    # One row per (record, label): error labels, "id_kind=..." and "(any)" (any error at all).
    parts = [
        frame.select(
            "child", "cluster", "both", "agency", label=pl.col("error_types").list.unique()
        )
        .explode("label")
        .drop_nulls("label")
        .with_columns(group=pl.lit("error")),
        frame.filter(pl.col("any")).select(
            "child", "cluster", "both", "agency", label=pl.lit("(any)"), group=pl.lit("any")
        ),
    ]
    if "id_kind" in frame.columns:
        parts.append(
            frame.select(
                "child",
                "cluster",
                "both",
                "agency",
                label=pl.col("id_kind").cast(pl.String),
                group=pl.lit("id_kind"),
            )
        )
    labelled = pl.concat(parts)
    involving = {}
    for key in ("child", "cluster", "both"):
        counts = frame.group_by(key, "agency").agg(n=pl.len().cast(pl.Int64))
        involving[key] = _involving_by_label(labelled, counts, key)
    table = (
        labelled.group_by("group", "label")
        .agg(records=pl.len().cast(pl.Int64))
        .join(involving["child"].rename({"pairs": "true_pairs"}), on="label", how="left")
        .join(involving["cluster"].rename({"pairs": "predicted"}), on="label", how="left")
        .join(involving["both"].rename({"pairs": "found_pairs"}), on="label", how="left")
        .with_columns(pl.col("true_pairs", "predicted", "found_pairs").fill_null(0))
    )
    any_row = table.filter(pl.col("group") == "any")
    involved = any_row.row(0, named=True) if any_row.height else {}
    clean = pl.DataFrame(
        {
            "group": ["clean"],
            "label": ["(no error)"],
            "records": [aligned.height - int(involved.get("records", 0))],
            "true_pairs": [totals.true_pairs - int(involved.get("true_pairs", 0))],
            "predicted": [totals.predicted_pairs - int(involved.get("predicted", 0))],
            "found_pairs": [totals.correct_pairs - int(involved.get("found_pairs", 0))],
        },
        schema=table.schema,
    )
    order = {"clean": 0, "error": 1, "id_kind": 2}
    return (
        pl.concat([clean, table.filter(pl.col("group") != "any")])
        .with_columns(
            missed_pairs=pl.col("true_pairs") - pl.col("found_pairs"),
            recall=pl.when(pl.col("true_pairs") > 0)
            .then(pl.col("found_pairs") / pl.col("true_pairs"))
            .otherwise(1.0),
            false_pairs=pl.col("predicted") - pl.col("found_pairs"),
            rank=pl.col("group").replace_strict(order, return_dtype=pl.Int64),
        )
        .sort(["rank", "records", "label"], descending=[False, True, False])
        .select(
            "group",
            "label",
            "records",
            "true_pairs",
            "found_pairs",
            "missed_pairs",
            "recall",
            "false_pairs",
        )
    )


def evaluate(
    predicted: pl.DataFrame,
    truth: pl.DataFrame,
    *,
    k: int = 2,
    window: tuple[date, date] | None = None,
    breakdown: bool = True,
) -> Evaluation:
    """Pairwise, case-level and per-error-type quality of predicted clusters against the truth.

    ``predicted`` has columns agency, record_id, cluster_id (see :func:`resolve_refs` for
    ref-based clusters); ``truth`` is a frame from :func:`read_truth`.
    """
    aligned = align(predicted, truth)
    pairs = pair_counts(aligned)
    return Evaluation(
        records=aligned.height,
        pairs=pairs,
        cases=case_counts(aligned, k, window),
        by_error=error_breakdown(aligned, pairs) if breakdown else pl.DataFrame(),
    )


def sweep(
    link_at: Callable[[float], pl.DataFrame],
    thresholds: Sequence[float],
    truth: pl.DataFrame,
    *,
    k: int = 2,
    window: tuple[date, date] | None = None,
) -> pl.DataFrame:
    """Evaluate ``link_at(threshold)`` (predicted clusters) at each threshold, in one frame."""
    rows = []
    for threshold in thresholds:
        start = time.perf_counter()
        predicted = link_at(threshold)
        seconds = time.perf_counter() - start
        result = evaluate(predicted, truth, k=k, window=window, breakdown=False)
        rows.append(
            {
                "threshold": float(threshold),
                "precision": result.pairs.precision,
                "recall": result.pairs.recall,
                "f1": result.pairs.f1,
                "predicted_pairs": result.pairs.predicted_pairs,
                "correct_pairs": result.pairs.correct_pairs,
                "true_pairs": result.pairs.true_pairs,
                "case_precision": result.cases.precision,
                "case_recall": result.cases.recall,
                "link_seconds": seconds,
            }
        )
    return pl.DataFrame(rows).sort("threshold")


def best_threshold(frame: pl.DataFrame, *, min_precision: float = 0.99) -> float | None:
    """The threshold with the best F1 among those meeting ``min_precision`` (else best F1)."""
    if frame.height == 0:
        return None
    ok = frame.filter(pl.col("precision") >= min_precision)
    pool = ok if ok.height else frame
    best = pool.sort(["f1", "threshold"], descending=[True, False]).row(0, named=True)
    return float(best["threshold"])


def plot_sweep(
    frame: pl.DataFrame,
    path: Path | str,
    *,
    title: str = "matcher linkage quality",
    targets: Mapping[str, float] | None = None,
) -> Path:
    """Write a PNG of pairwise precision, recall and F1 against the threshold (Agg backend)."""
    require_extra("plots", what="plotting")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    targets = {"precision": 0.99, "recall": 0.97} if targets is None else targets
    fig = Figure(figsize=(7, 4.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = frame["threshold"].to_list()
    styles = {"precision": ("tab:blue", "-"), "recall": ("tab:orange", "-"), "f1": ("grey", "--")}
    for column, (color, line) in styles.items():
        ax.plot(x, frame[column].to_list(), line, color=color, marker="o", ms=3, label=column)
    for name, value in targets.items():
        color = styles.get(name, ("black", ":"))[0]
        ax.axhline(value, color=color, ls=":", lw=0.8, label=f"{name} target {value:g}")
    best = best_threshold(frame)
    if best is not None:
        ax.axvline(best, color="green", ls="-.", lw=0.8, label=f"chosen threshold {best:g}")
    ax.set_xlabel("fuzzy-match threshold (Dice)")
    ax.set_ylabel("cross-agency pairwise score")
    ax.set_title(title)
    low = min(min(frame["precision"]), min(frame["recall"])) if frame.height else 0.0
    ax.set_ylim(max(0.0, min(0.9, float(low) - 0.02)), 1.005)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="png")
    return out
