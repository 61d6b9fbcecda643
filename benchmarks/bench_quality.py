"""Linkage quality on realistic synthetic agencies, against an exact-identity baseline.

    python benchmarks/bench_quality.py --children 20000 --agencies 5 --json quality.json \
        --plot quality.png

1. `matcher.evaluation.synth` writes the agencies' exports (typos, missing and mistyped
   identity numbers, name variants, Windows-1252 and Excel files) and the truth;
2. each export is hashed as a steward would (`matcher.steward.hashing.hash_export`);
3. baseline, same run: records linked only when their valid identity-number tokens are equal
   (what a plain personnummer join gives);
4. the linkage core (`matcher.linkage.linkage.link`) at each threshold of a sweep; the chosen
   threshold is the best F1 with pairwise precision >= 0.99. Figures: cross-agency pairwise
   precision, recall and F1, case precision and recall (k = 2), and the breakdown by error type at
   the default and the chosen threshold.
Also times the generator itself (wall and CPU seconds per million rows).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from matcher.evaluation.evaluation import (
    best_threshold,
    evaluate,
    plot_sweep,
    read_local_maps,
    resolve_refs,
    sweep,
)
from matcher.evaluation.synth import AGENCY_PROFILES, SynthConfig, generate, write_exports
from matcher.linkage.linkage import DEFAULT_THRESHOLD, link
from matcher.steward.exports import load_mapping
from matcher.steward.hashed_file import read_hashed
from matcher.steward.hashing import hash_export

TARGET_PRECISION, TARGET_RECALL = 0.99, 0.97


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--agencies", type=int, default=5, choices=range(2, 7))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--thresholds", default="0.6,0.65,0.7,0.75,0.8,0.85,0.9,0.95", help="sweep values"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--plot", type=Path, help="PNG of precision/recall vs threshold")
    args = parser.parse_args()

    agencies = tuple(AGENCY_PROFILES)[: args.agencies]
    config = SynthConfig(children=args.children, seed=args.seed, agencies=agencies)
    secret = bytes(range(32))
    with tempfile.TemporaryDirectory(prefix="matcher-quality-") as tmp:
        work = Path(tmp)
        wall, cpu = time.perf_counter(), cpu_seconds()
        data = generate(config)
        out = write_exports(data, work)
        synth_wall, synth_cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        rows = sum(out.rows.values())

        wall = time.perf_counter()
        for name, path in out.files.items():
            hash_export(
                path,
                secret=secret,
                round_id="quality",
                agency=name,
                out=work / f"{name}.hashed.parquet",
                map_path=work / f"{name}.map.parquet",
                rejects_path=work / f"{name}.rejects.csv",
                reference_date=config.reference_date,
                columns=load_mapping(work / f"{name}.mapping.toml").columns,
            )
        hash_wall = time.perf_counter() - wall
        files = [read_hashed(work / f"{name}.hashed.parquet") for name in out.files]
        maps = read_local_maps([work / f"{name}.map.parquet" for name in out.files])
        truth = data.truth

        # Baseline: equal valid identity-number tokens only.
        refs = pl.concat([f.frame.select("agency", "ref", "id_token") for f in files])
        baseline_clusters = refs.select(
            "agency",
            "ref",
            pl.when(pl.col("id_token").is_not_null())
            .then(pl.format("id{}", pl.col("id_token")))
            .otherwise(pl.format("single{}", pl.int_range(pl.len())))
            .alias("cluster_id"),
        )
        baseline = evaluate(resolve_refs(baseline_clusters, maps), truth)

        def link_at(threshold: float) -> pl.DataFrame:
            return resolve_refs(link(files, threshold=threshold).clusters, maps)

        thresholds = [float(x) for x in args.thresholds.split(",")]
        frame = sweep(link_at, thresholds, truth)
        chosen = best_threshold(frame, min_precision=TARGET_PRECISION) or DEFAULT_THRESHOLD
        at_chosen = evaluate(link_at(chosen), truth)
        at_default = evaluate(link_at(DEFAULT_THRESHOLD), truth)
        wall = time.perf_counter()
        stats = link(files, threshold=DEFAULT_THRESHOLD).stats  # warm: kernels compiled above
        link_wall = time.perf_counter() - wall

    def row(name: str, result: Any) -> dict[str, Any]:
        return {
            "method": name,
            "precision": result.pairs.precision,
            "recall": result.pairs.recall,
            "f1": result.pairs.f1,
            "case_precision": result.cases.precision,
            "case_recall": result.cases.recall,
            "true_pairs": result.pairs.true_pairs,
            "predicted_pairs": result.pairs.predicted_pairs,
        }

    methods = [
        row("baseline: equal identity number only", baseline),
        row(f"matcher at default threshold {DEFAULT_THRESHOLD:g}", at_default),
        row(f"matcher at chosen threshold {chosen:g}", at_chosen),
    ]
    print(
        f"\n{args.children:,} children, {len(agencies)} agencies ({', '.join(agencies)}), "
        f"{rows:,} records, {at_chosen.pairs.true_pairs:,} true cross-agency pairs, "
        f"{at_chosen.cases.true_cases:,} children on >= 2 lists"
    )
    print(
        f"generator: {synth_wall:.2f} s wall, {synth_cpu:.2f} s CPU "
        f"({synth_wall / rows * 1e6:.1f} s wall per million rows); hashing {hash_wall:.2f} s"
    )
    print(
        f"link at default threshold: {link_wall:.2f} s wall, {stats.links.get('blocks', 0):,} "
        f"blocks, {stats.links.get('fuzzy_compared', 0):,} pairs compared, "
        f"{stats.links.get('name', 0):,} name links, {stats.links.get('fuzzy', 0):,} fuzzy links; "
        + ", ".join(f"{k} {v:.2f}" for k, v in stats.timings.items() if k.endswith("_s"))
        + "\n"
    )
    header = f"{'method':44} {'prec':>7} {'recall':>7} {'F1':>7} {'case P':>7} {'case R':>7}"
    print(header + f" {'recall vs baseline':>19}")
    for m in methods:
        ratio = m["recall"] / methods[0]["recall"] if methods[0]["recall"] else float("nan")
        print(
            f"{m['method']:44} {m['precision']:7.4f} {m['recall']:7.4f} {m['f1']:7.4f} "
            f"{m['case_precision']:7.4f} {m['case_recall']:7.4f} {ratio:18.3f}x"
        )
    print("\nthreshold sweep")
    print(f"{'threshold':>9} {'prec':>7} {'recall':>7} {'F1':>7} {'case P':>7} {'case R':>7}")
    for r in frame.iter_rows(named=True):
        mark = " *" if r["threshold"] == chosen else ""
        print(
            f"{r['threshold']:9.3f} {r['precision']:7.4f} {r['recall']:7.4f} {r['f1']:7.4f} "
            f"{r['case_precision']:7.4f} {r['case_recall']:7.4f}{mark}"
        )
    print(
        f"\nby error type (pairs with at least one such record): default threshold "
        f"{DEFAULT_THRESHOLD:g} | chosen {chosen:g}"
    )
    print(
        f"{'label':28} {'records':>8} {'true pairs':>10} {'missed':>7} {'recall':>7} {'false':>6}"
        f" | {'missed':>7} {'recall':>7} {'false':>6}"
    )
    chosen_rows = {r["label"]: r for r in at_chosen.by_error.iter_rows(named=True)}
    for r in at_default.by_error.iter_rows(named=True):
        c = chosen_rows[r["label"]]
        print(
            f"{r['label']:28} {r['records']:8,} {r['true_pairs']:10,} {r['missed_pairs']:7,} "
            f"{r['recall']:7.4f} {r['false_pairs']:6,} | {c['missed_pairs']:7,} "
            f"{c['recall']:7.4f} {c['false_pairs']:6,}"
        )

    def meets(result: Any) -> bool:
        return result.pairs.precision >= TARGET_PRECISION and result.pairs.recall >= TARGET_RECALL

    met, met_default = meets(at_chosen), meets(at_default)
    print(
        f"\ntargets precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}: "
        f"{'met' if met else 'NOT met'} at threshold {chosen:g}, "
        f"{'met' if met_default else 'NOT met'} at the default {DEFAULT_THRESHOLD:g}"
    )
    if args.plot:
        plot_sweep(frame, args.plot, title=f"matcher quality, {args.children:,} synthetic children")
        print(f"wrote {args.plot}")
    if args.json:
        figures = {
            "children": args.children,
            "agencies": list(agencies),
            "records": rows,
            "seed": args.seed,
            "synth_wall_s": synth_wall,
            "synth_cpu_s": synth_cpu,
            "hash_wall_s": hash_wall,
            "link_wall_s": link_wall,
            "link_stats": stats.as_dict(),
            "methods": methods,
            "chosen_threshold": chosen,
            "targets_met": met,
            "targets_met_at_default": met_default,
            "sweep": frame.to_dicts(),
            "by_error": at_chosen.by_error.to_dicts(),
            "by_error_at_default": at_default.by_error.to_dicts(),
        }
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
