"""Benchmark of the linkage core against baselines measured in the same run.

    python benchmarks/bench_linkage.py --agencies 5 --records 1000000 --tokens 3..4 --json out.json

1. exact path: synthetic token arrays (children seen by every agency, some tokens lost) linked
   into clusters, against a polars join on tokens followed by scipy's connected_components
   (runs interleaved, best of --repeat each, since shared machines are noisy). The baseline
   joins each (record, token) row to the token's first record, so it builds one edge per
   token rather than every pair sharing a token: linear, and faster than a plain self-join;
2. Dice comparisons per second on 1024-bit encodings: the Numba block kernel against plain
   NumPy (np.bitwise_count) and anonlink's C++ kernel when anonlink is installed;
3. a blocked fuzzy pass (blocking, Dice, clustering) over agencies x records encodings, blocked
   by birth date, with 2 % of children on a default 01-01 birth date (oversize blocks);
4. first-call compile time of the kernels: cold (empty Numba cache) and from the cache.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from matcher._numba_config import threads_for
from matcher.kernels import linkage as _kernels
from matcher.linkage.blocking import BlockingParams, Blocks
from matcher.linkage.cases import cases_from_sorted
from matcher.linkage.comparison import FieldArrays
from matcher.linkage.linkage import LinkageArrays, link_arrays, warm_up

NBITS = 1024
WORDS = NBITS // 64


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """Result and wall seconds of one call."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def exact_inputs(
    agencies: int, records: int, tokens: tuple[int, int], seed: int = 1
) -> tuple[LinkageArrays, np.ndarray]:
    """Records of `records` children per agency; token 0 is the identity number, the others name
    tokens. Each identity number is missing or invalid with probability 0.2; each name token is
    lost (replaced by a fresh one: a typo or a name variant) with probability 0.1."""
    rng = np.random.default_rng(seed)
    n = agencies * records
    t_max = tokens[1]
    child_tokens = rng.integers(0, 2**64 - 1, size=(records, t_max), dtype=np.uint64)
    child = rng.integers(0, records, size=n)
    per_record = rng.integers(tokens[0], tokens[1] + 1, size=n)
    toks = child_tokens[child]
    lost = rng.random((n, t_max)) < 0.1
    lost[:, 0] = False  # an identity number is never replaced, only missing (id_valid)
    toks[lost] = rng.integers(0, 2**64 - 1, size=int(lost.sum()), dtype=np.uint64)
    id_valid = rng.random(n) < 0.8
    names_per = per_record - 1
    name_mask = np.arange(1, t_max)[None, :] <= names_per[:, None]
    name_tokens = toks[:, 1:][name_mask]
    arrays = LinkageArrays(
        id_tokens=toks[:, 0].copy(),
        id_valid=id_valid,
        name_offsets=np.r_[0, np.cumsum(names_per)].astype(np.int64),
        name_tokens=name_tokens,
        block_offsets=np.zeros(n + 1, np.int64),
        block_tokens=np.zeros(0, np.uint64),
        bits=np.zeros((n, 1), np.uint64),
        bloom_valid=np.zeros(n, bool),
        nbits=64,
    )
    agency = np.repeat(np.arange(agencies), records)
    return arrays, agency


def baseline_exact(arrays: LinkageArrays) -> np.ndarray:
    """polars join of records on shared tokens, then scipy connected components."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n = arrays.size
    ids = np.flatnonzero(arrays.id_valid)
    owners = np.r_[ids, np.repeat(np.arange(n), np.diff(arrays.name_offsets))]
    tokens = np.r_[arrays.id_tokens[ids], arrays.name_tokens]
    long = pl.DataFrame({"record": owners, "token": tokens})
    first = long.group_by("token").agg(pl.col("record").min().alias("root"))
    edges = long.join(first, on="token")
    left = edges["record"].to_numpy()
    right = edges["root"].to_numpy()
    graph = sp.coo_matrix((np.ones(left.size, np.int8), (left, right)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    return labels


def baseline_cases(labels: np.ndarray, agency: np.ndarray, k: int = 2) -> pl.DataFrame:
    """The baseline's cases: clusters with records from at least k agencies (polars group-by)."""
    frame = pl.DataFrame({"cluster": labels, "agency": agency})
    big = (
        frame.group_by("cluster")
        .agg(pl.col("agency").n_unique().alias("n"))
        .filter(pl.col("n") >= k)
        .select("cluster")
    )
    return frame.join(big, on="cluster")


def random_encodings(rng: np.random.Generator, n: int) -> np.ndarray:
    """Encodings with about a quarter of their 1024 bits set."""
    a = rng.integers(0, 2**64 - 1, size=(n, WORDS), dtype=np.uint64, endpoint=True)
    return a & rng.integers(0, 2**64 - 1, size=(n, WORDS), dtype=np.uint64, endpoint=True)


def single_block(m: int) -> Blocks:
    """One block holding records 0..m-1, nothing listed (every pair is compared)."""
    return Blocks(
        members=np.arange(m, dtype=np.int64),
        starts=np.array([0, m], np.int64),
        rec_offsets=np.zeros(m + 1, np.int64),
        rec_blocks=np.zeros(0, np.int64),
        listed=1,
        oversize=0,
        oversize_records=0,
    )


def kernel_rate(bits: np.ndarray, blocks: int, threshold: float) -> tuple[float, int]:
    """Comparisons per second of the block kernel on `blocks` blocks covering `bits`."""
    n = bits.shape[0]
    m = n // blocks
    starts = np.arange(0, m * blocks + 1, m, dtype=np.int64)
    cap = np.full(blocks, m * (m - 1) // 2, np.int64)
    offsets = np.r_[0, np.cumsum(cap)[:-1]].astype(np.int64)
    size = int(cap.sum())
    out = (np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.float64))
    found, seen = np.zeros(blocks, np.int64), np.zeros(blocks, np.int64)
    counts = _kernels.popcount_rows(bits)
    group, gtoken, ghas = np.arange(n), np.zeros(n, np.uint64), np.zeros(n, bool)
    empty = np.zeros(n + 1, np.int64)

    def run() -> None:
        _kernels.block_pair_dice(
            np.arange(n, dtype=np.int64), starts, 0, blocks, offsets, empty,
            np.zeros(0, np.int64), bits, counts, group, gtoken, ghas, threshold,
            *out, found, seen,
        )  # fmt: skip

    run()
    best = min(timed(run)[1] for _ in range(3))
    return int(seen.sum()) / best, int(seen.sum())


def numpy_rate(bits: np.ndarray, threshold: float) -> float:
    """Comparisons per second of a vectorised NumPy Dice (np.bitwise_count) over all pairs."""
    counts = np.bitwise_count(bits).sum(axis=1)
    n = bits.shape[0]
    start = time.perf_counter()
    kept = 0
    for i in range(n - 1):
        inter = np.bitwise_count(bits[i] & bits[i + 1 :]).sum(axis=1)
        dice = 2.0 * inter / (counts[i] + counts[i + 1 :])
        kept += int((dice >= threshold).sum())
    return n * (n - 1) / 2 / (time.perf_counter() - start)


def anonlink_rate(bits: np.ndarray, threshold: float) -> float | None:
    """Comparisons per second of anonlink's accelerated Dice over A x B, or None if absent."""
    try:
        from anonlink.similarities import dice_coefficient_accelerated
        from bitarray import bitarray
    except ImportError:
        return None
    half = bits.shape[0] // 2
    raw = bits.view(np.uint8).reshape(bits.shape[0], -1)

    def to_bitarrays(rows: np.ndarray) -> list[Any]:
        out = []
        for row in rows:
            b = bitarray()
            b.frombytes(row.tobytes())
            out.append(b)
        return out

    a, b = to_bitarrays(raw[:half]), to_bitarrays(raw[half : 2 * half])
    dice_coefficient_accelerated((a, b), threshold)
    best = min(timed(dice_coefficient_accelerated, (a, b), threshold)[1] for _ in range(3))
    return half * half / best


def fuzzy_inputs(
    agencies: int, records: int, seed: int = 2
) -> tuple[LinkageArrays, np.ndarray, np.ndarray]:
    """Noisy copies (about 3 % of bits flipped) of children's encodings, blocked by birth date;
    2 % of children carry a default 01-01 birth date. No identity or name tokens at all.
    Returns the arrays, each record's child and each child's birth day."""
    rng = np.random.default_rng(seed)
    n = agencies * records
    base = random_encodings(rng, records)
    day = rng.integers(0, 18 * 365, size=records).astype(np.uint64)
    newly_arrived = rng.random(records) < 0.02
    day[newly_arrived] = (day[newly_arrived] // np.uint64(365)) * np.uint64(365)
    child = np.concatenate([rng.permutation(records) for _ in range(agencies)])
    bits = base[child]
    for lo in range(0, n, 1_000_000):
        hi = min(lo + 1_000_000, n)
        flip = np.full((hi - lo, WORDS), np.uint64(2**64 - 1))
        for _ in range(5):
            flip &= rng.integers(0, 2**64 - 1, size=(hi - lo, WORDS), dtype=np.uint64)
        bits[lo:hi] ^= flip
    del base
    arrays = LinkageArrays(
        id_tokens=np.zeros(n, np.uint64),
        id_valid=np.zeros(n, bool),
        name_offsets=np.zeros(n + 1, np.int64),
        name_tokens=np.zeros(0, np.uint64),
        block_offsets=np.arange(n + 1, dtype=np.int64),
        block_tokens=day[child] * np.uint64(0x9E3779B97F4A7C15),
        bits=bits,
        bloom_valid=np.ones(n, bool),
        nbits=NBITS,
    )
    return arrays, child, day


def fuzzy_fields(
    child: np.ndarray,
    day: np.ndarray,
    seed: int = 3,
    given_names: int = 5000,
    surnames: int = 50000,
) -> FieldArrays:
    """Field-level evidence for the fuzzy pass's records (comparison model): a given name and a
    surname per child drawn with a flattened Zipf law (p ~ 1 / (rank + 30): the most common given
    name ~2 % and surname ~1 % of children, as in Swedish name statistics), kept or replaced by a
    typo (5 %) per record, birth-date part tokens from the child's day, 256-bit name filters with
    ~3 % of bits flipped."""
    rng = np.random.default_rng(seed)
    children = int(child.max()) + 1
    n = child.size

    def draw(vocabulary: int, offset: int) -> np.ndarray:
        weights = 1.0 / (np.arange(vocabulary) + 30.0)
        picks = rng.choice(vocabulary, size=children, p=weights / weights.sum())
        return picks.astype(np.uint64) + np.uint64(offset)

    given = draw(given_names, 1)
    surname = draw(surnames, 1 << 32)
    g, s = given[child], surname[child]
    typo = rng.random((2, n)) < 0.05
    g[typo[0]] ^= rng.integers(1, 1 << 20, typo[0].sum()).astype(np.uint64) << np.uint64(40)
    s[typo[1]] ^= rng.integers(1, 1 << 20, typo[1].sum()).astype(np.uint64) << np.uint64(40)
    words = 4
    given_bits = rng.integers(0, 2**63, size=(given_names, words), dtype=np.uint64)
    surname_bits = rng.integers(0, 2**63, size=(surnames, words), dtype=np.uint64)
    g_bits = given_bits[(given[child] - np.uint64(1)).astype(np.int64)]
    s_bits = surname_bits[(surname[child] - np.uint64(1 << 32)).astype(np.int64)]
    for bits in (g_bits, s_bits):
        flip = rng.integers(0, 2**64 - 1, size=bits.shape, dtype=np.uint64)
        for _ in range(4):
            flip &= rng.integers(0, 2**64 - 1, size=bits.shape, dtype=np.uint64)
        bits ^= flip
    d = day[child]
    year, month, dom = d // np.uint64(365), (d // np.uint64(30)) % np.uint64(12), d % np.uint64(31)
    mix = np.uint64(0x9E3779B97F4A7C15)
    parts = np.stack([(year << np.uint64(8) | month) * mix, (year << np.uint64(16) | dom) * mix,
                      (month << np.uint64(24) | dom) * mix], axis=1).reshape(-1)  # fmt: skip
    one = np.arange(n + 1, dtype=np.int64)

    def counts(values: np.ndarray) -> np.ndarray:
        _, inverse, c = np.unique(values, return_inverse=True, return_counts=True)
        return c[inverse].astype(np.int64)

    return FieldArrays(
        kinds=np.zeros(n, np.uint8), ids=np.zeros(n, np.uint64),
        given_off=one, given_words=g, given_sounds=g % np.uint64(2000), given_counts=counts(g),
        surname_off=one, surname_words=s, surname_sounds=s % np.uint64(15000),
        surname_counts=counts(s), date_off=3 * one, date_parts=parts,
        given_bits=g_bits, given_pop=np.bitwise_count(g_bits).sum(axis=1).astype(np.int64),
        surname_bits=s_bits, surname_pop=np.bitwise_count(s_bits).sum(axis=1).astype(np.int64),
    )  # fmt: skip


def compile_seconds() -> dict[str, float]:
    """warm_up() in fresh processes: with an empty Numba cache, then with the cache filled."""
    code = "from matcher.linkage.linkage import warm_up; print(warm_up())"
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold_s", "cached_s"):
            run = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            out[label] = float(run.stdout.strip().splitlines()[-1])
    return out


def parse_range(text: str) -> tuple[int, int]:
    """'3..4' -> (3, 4); '3' -> (3, 3)."""
    lo, _, hi = text.partition("..")
    return int(lo), int(hi or lo)


def main() -> None:
    """Run the sections asked for, print a table of figures and ratios, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=5)
    parser.add_argument("--records", type=int, default=100_000, help="records per agency")
    parser.add_argument("--tokens", type=parse_range, default=(3, 4), help="tokens per record")
    parser.add_argument("--fuzzy-records", type=int, default=None, help="default: --records")
    parser.add_argument("--dice-block", type=int, default=4096, help="encodings per Dice test")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (best is reported)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["exact", "dice", "fuzzy"])
    parser.add_argument(
        "--no-model", action="store_true", help="fuzzy pass without the comparison model"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    rows: list[tuple[str, str, str]] = []

    figures["compile"] = compile_seconds()
    warm_up()
    rows.append(("compile, cold / from cache", f"{figures['compile']['cold_s']:.1f} s / "
                 f"{figures['compile']['cached_s']:.2f} s", ""))  # fmt: skip

    if "exact" not in args.skip:
        arrays, agency = exact_inputs(args.agencies, args.records, args.tokens)
        ours, ours_s = timed(link_arrays, arrays, fuzzy=False)
        frame = pl.DataFrame(
            {
                "agency": agency.astype(str),
                "ref": np.arange(arrays.size).astype(str),
                "signal": pl.Series([None] * arrays.size, dtype=pl.Utf8),
                "signal_date": pl.Series([None] * arrays.size, dtype=pl.Date),
                "cluster_id": ours.labels,
            }
        )
        cases, cases_s = timed(cases_from_sorted, frame, k=2)
        ours_rss = peak_rss_gb()
        del frame, cases
        ours_runs, base_runs, base_cases_runs = [ours_s], [], []
        for turn in range(args.repeat):  # interleaved, so both see the same machine load
            base, seconds = timed(baseline_exact, arrays)
            base_runs.append(seconds)
            base_cases_runs.append(timed(baseline_cases, base, agency)[1])
            if turn:
                ours_runs.append(timed(link_arrays, arrays, fuzzy=False)[1])
        ours_s, base_s = min(ours_runs), min(base_runs)
        base_cases_s = min(base_cases_runs)
        same = np.unique(ours.labels).size, np.unique(base).size
        figures["exact"] = {
            "records": arrays.size,
            "tokens": int(arrays.id_valid.sum() + arrays.name_tokens.size),
            "ours_s": ours_s,
            "ours_runs_s": ours_runs,
            "ours_timings": ours.timings,
            "cases_s": cases_s,
            "baseline_s": base_s,
            "baseline_runs_s": base_runs,
            "speedup_clusters": base_s / ours_s,
            "baseline_cases_s": base_cases_s,
            "speedup_clusters_and_cases": (base_s + base_cases_s) / (ours_s + cases_s),
            "peak_rss_gb_after_ours": ours_rss,
            "clusters_ours_baseline": same,
        }
        rows += [
            (f"exact: {arrays.size:,} records to clusters", f"{ours_s:.2f} s",
             f"{base_s / ours_s:.1f}x vs polars join + csgraph ({base_s:.2f} s)"),
            ("exact: cases from the clusters", f"{cases_s:.2f} s",
             f"clusters + cases {(base_s + base_cases_s) / (ours_s + cases_s):.1f}x the baseline"
             f" (its cases: polars group-by, {base_cases_s:.2f} s)"),
            ("exact: peak RSS after ours (incl. data)", f"{ours_rss:.2f} GB", ""),
            ("exact: clusters ours / baseline", f"{same[0]:,} / {same[1]:,}",
             "fewer baseline clusters = chains the identity rule cut"),
        ]  # fmt: skip
        del arrays, agency, ours, base

    if "dice" not in args.skip:
        rng = np.random.default_rng(5)
        bits = random_encodings(rng, args.dice_block)
        with threads_for(0):  # one thread: no idle OpenMP thread spinning beside it
            one, pairs = kernel_rate(bits, 1, args.threshold)
        many, _ = kernel_rate(random_encodings(rng, 4 * args.dice_block), 4, args.threshold)
        plain = numpy_rate(bits[: min(1024, args.dice_block)], args.threshold)
        anon = anonlink_rate(bits, args.threshold)
        figures["dice"] = {
            "kernel_1_block_per_s": one,
            "kernel_4_blocks_per_s": many,
            "numpy_per_s": plain,
            "anonlink_per_s": anon,
            "pairs_1_block": pairs,
        }
        rows += [
            ("dice: numba, 1 block (1 thread)", f"{one / 1e6:.0f} M/s",
             f"{one / plain:.1f}x numpy" + (f", {one / anon:.1f}x anonlink" if anon else "")),
            ("dice: numba, 4 blocks (all cores)", f"{many / 1e6:.0f} M/s",
             f"{many / plain:.1f}x numpy" + (f", {many / anon:.1f}x anonlink" if anon else "")),
            ("dice: numpy bitwise_count", f"{plain / 1e6:.0f} M/s", "1.0x"),
            ("dice: anonlink (C++)", f"{anon / 1e6:.0f} M/s" if anon else "not installed", ""),
        ]  # fmt: skip

    if "fuzzy" not in args.skip:
        per_agency = args.fuzzy_records or args.records
        arrays, child, day = fuzzy_inputs(args.agencies, per_agency)
        fields = None if args.no_model else fuzzy_fields(child, day)
        params = BlockingParams()
        result, fuzzy_s = timed(
            link_arrays, arrays, threshold=args.threshold, blocking=params, fields=fields
        )
        true_clusters = per_agency
        found = np.unique(result.labels).size
        # pairwise quality against the children we generated
        pure = pl.DataFrame({"label": result.labels, "child": child})
        per_label = pure.group_by("label").agg(pl.col("child").n_unique())
        purity = per_label.select(pl.col("child").max()).item()
        per_child = pure.group_by("child").agg(pl.col("label").n_unique())
        split = per_child.select(pl.col("label").mean()).item()
        figures["fuzzy"] = {
            "records": arrays.size,
            "seconds": fuzzy_s,
            "timings": result.timings,
            "links": result.links,
            "clusters_found": found,
            "children": true_clusters,
            "max_children_per_cluster": purity,
            "mean_clusters_per_child": split,
            "peak_rss_gb": peak_rss_gb(),
        }
        links = result.links
        rows += [
            (f"fuzzy: blocked pass over {arrays.size:,} records", f"{fuzzy_s:.1f} s",
             f"{max(links['fuzzy_compared'], links.get('scored_compared', 0)) / 1e6:,.0f} M "
             "comparisons, "
             f"{links['oversize_blocks']} oversize blocks ({links['oversize_records']:,} records)"),
            ("fuzzy: clusters found / children", f"{found:,} / {true_clusters:,}",
             f"max children per cluster {purity}, clusters per child {split:.3f}"),
            ("peak RSS of the run", f"{peak_rss_gb():.2f} GB", ""),
        ]  # fmt: skip

    width = max(len(r[0]) for r in rows)
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>22}  {ratio}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float))


if __name__ == "__main__":
    main()
