"""Analysis round: ``analyse`` on synthetic multi-year histories against a bare polars join.

Generates escalating histories (``synth_histories.histories``) for ``--children`` children over
``--agencies`` agencies and ``--years`` years, then times, best of ``--repeat``:

* the baseline: one polars join of signals to outcomes plus the first-signal-per-agency group-by
  (the least any analysis must do);
* ``analyse``: the analysis on linked keys (profiles, suppression ledgers, quantiles, orders);
* ``analyse_hashed``: the round as the service runs it - one hashed file per agency plus the
  outcome list (identity tokens only, so linkage is the exact-token pass), linked, then analysed.

The target (issue 10) is about 500k signals and 10k outcomes in under a minute.

Usage: ``python benchmarks/bench_analysis.py --children 80000 --json out.json``
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from matcher.evaluation.synth_histories import histories
from matcher.followup.analysis import AnalysisInput, analyse, analyse_hashed
from matcher.steward.hashed_file import EncodingParams, HashedFile, HashedFileHeader


def hashed_files(signals: pl.DataFrame, outcomes: pl.DataFrame) -> list[HashedFile]:
    """One hashed file per agency and an outcome list, each child's key as its identity token."""
    keys = pl.concat([signals["key"], outcomes["key"]]).unique().sort()
    token = pl.DataFrame({"key": keys, "id_token": pl.int_range(1, keys.len() + 1, eager=True)})

    def one(frame: pl.DataFrame, agency: str, kind: str) -> HashedFile:
        body = frame.join(token, on="key").select(
            pl.format("{}{}", pl.lit(kind[0]), pl.int_range(pl.len())).alias("ref"),
            pl.lit(agency).alias("agency"),
            pl.lit("x").alias("signal"),
            pl.col("date").alias("signal_date"),
            pl.col("id_token").cast(pl.UInt64),
            pl.lit([], dtype=pl.List(pl.UInt64)).alias("name_tokens"),
            pl.lit([], dtype=pl.List(pl.UInt64)).alias("block_tokens"),
            pl.lit(None, dtype=pl.Binary).alias("bloom"),
        )
        header = HashedFileHeader(
            round_id="bench", agency=agency, key_check="00", row_count=body.height,
            token_kinds=["pnr"], encoding=EncodingParams(), list_kind=kind,
        )  # fmt: skip
        return HashedFile(header=header, frame=body)

    agencies = sorted(signals["agency"].unique())
    files = [one(signals.filter(pl.col("agency") == a), a, "signals") for a in agencies]
    return [*files, one(outcomes, "outcome_list", "outcomes")]


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    """Parse the sizes, run both, print seconds and the ratio, optionally write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", type=int, default=80_000)
    ap.add_argument("--agencies", type=int, default=6)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--placement-rate", type=float, default=0.7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    t = time.perf_counter()
    h = histories(
        children=args.children,
        agencies=args.agencies,
        years=args.years,
        placement_rate=args.placement_rate,
    )
    gen = time.perf_counter() - t
    data = AnalysisInput(h.signals, h.outcomes)

    def baseline() -> pl.DataFrame:
        first = h.outcomes.group_by("key").agg(pl.col("date").min().alias("outcome"))
        return (
            h.signals.join(first, on="key", how="left")
            .group_by("key", "agency")
            .agg(pl.col("date").min())
        )

    base = _best(baseline, args.repeat)
    full = _best(lambda: analyse(data, h.agencies), args.repeat)
    files = hashed_files(h.signals, h.outcomes)
    linked = _best(lambda: analyse_hashed(files), args.repeat)
    a, b = analyse(data, sorted(h.agencies)), analyse_hashed(files)
    if a["outcome"]["signal_at"] != b["outcome"]["signal_at"]:
        raise SystemExit("analyse and analyse_hashed disagree")
    result = {
        "signals": h.signals.height,
        "outcomes": h.outcomes.height,
        "agencies": args.agencies,
        "years": args.years,
        "generate_s": round(gen, 3),
        "baseline_join_s": round(base, 3),
        "analyse_s": round(full, 3),
        "ratio_vs_baseline": round(full / base, 2),
        "analyse_hashed_s": round(linked, 3),
        "hashed_ratio_vs_baseline": round(linked / base, 2),
        "target_s": 60,
    }
    print(
        f"{result['signals']:,} signals, {result['outcomes']:,} outcomes: "
        f"analyse {full:.2f}s, with linkage from hashed files {linked:.2f}s, "
        f"polars join baseline {base:.2f}s, ratios {full / base:.1f}x / {linked / base:.1f}x "
        f"(target < 60 s)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
