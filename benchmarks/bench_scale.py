"""Scale curve of the whole linkage (exact + fuzzy pass) on one machine, size by size.

    python benchmarks/bench_scale.py --agencies 6 --records 250000 500000 1000000 2300000 \
        --json scale.json [--service]

Each size runs in a fresh process (so its peak memory is its own) on synthetic lists shaped
like a national evaluation: children drawn from a population of ``records`` children, each on
every agency's list once, with an identity token (missing on 20 % of the records), two or three
name tokens (10 % lost), a birth-date blocking token and a 1024-bit encoding (about 3 % of its
bits flipped per record). Birth dates are concentrated as in Swedish registers: ``--new-year``
(default 4 %) of the children carry 1 January of their birth year (newly arrived children
registered without a known date), so 18 blocks hold tens of thousands of records.

Per size: wall seconds of ``link_arrays`` (exact and fuzzy), its stage timings, comparisons,
oversize blocks, peak resident memory, and the growth exponent against the previous size
(``log(y2 / y1) / log(n2 / n1)``: 1.0 is linear). Ratios are against the smallest size of the
same run. While a size runs, the machine's available memory is watched: below ``--floor-gb`` the
run is stopped and reported as stopped, never left to the kernel's out-of-memory killer.
``--service`` adds one service round at 6 x 1 M (``bench_service.py``, uploads over loopback).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from matcher.linkage.blocking import BlockingParams
from matcher.linkage.linkage import LinkageArrays, link_arrays, warm_up

NBITS = 1024
WORDS = NBITS // 64
DAYS = 18 * 365
HERE = Path(__file__).resolve().parent


def scale_inputs(
    agencies: int, records: int, new_year: float, fuzzy_only: bool = False, seed: int = 7
) -> LinkageArrays:
    """Every child on every agency's list (records in a shuffled order per agency), noisy;
    ``fuzzy_only`` drops the identity and name tokens (the fuzzy pass links everything)."""
    rng = np.random.default_rng(seed)
    n = agencies * records
    ident = rng.integers(0, 2**64 - 1, size=records, dtype=np.uint64)
    names = rng.integers(0, 2**64 - 1, size=(records, 3), dtype=np.uint64)
    day = rng.integers(0, DAYS, size=records).astype(np.uint64)
    arrived = rng.random(records) < new_year
    day[arrived] = (day[arrived] // np.uint64(365)) * np.uint64(365)
    child = np.concatenate([rng.permutation(records) for _ in range(agencies)])
    bits = np.empty((n, WORDS), np.uint64)
    for lo in range(0, n, 1 << 20):
        hi = min(lo + (1 << 20), n)
        # the child's own encoding (a quarter of the bits set), then about 3 % of bits flipped
        sub = np.random.default_rng([seed, lo])
        base = _child_bits(child[lo:hi], seed)
        flip = np.full((hi - lo, WORDS), np.uint64(2**64 - 1))
        for _ in range(5):
            flip &= sub.integers(0, 2**64 - 1, size=(hi - lo, WORDS), dtype=np.uint64)
        bits[lo:hi] = base ^ flip
    per = rng.integers(2, 4, size=n) * (not fuzzy_only)
    name_mask = np.arange(3)[None, :] < per[:, None]
    name_tokens = names[child][name_mask]
    lost = rng.random(name_tokens.size) < 0.1
    name_tokens[lost] = rng.integers(0, 2**64 - 1, size=int(lost.sum()), dtype=np.uint64)
    return LinkageArrays(
        id_tokens=ident[child],
        id_valid=(rng.random(n) < 0.8) & (not fuzzy_only),
        name_offsets=np.r_[0, np.cumsum(per)].astype(np.int64),
        name_tokens=name_tokens,
        block_offsets=np.arange(n + 1, dtype=np.int64),
        block_tokens=day[child] * np.uint64(0x9E3779B97F4A7C15),
        bits=bits,
        bloom_valid=np.ones(n, bool),
        nbits=NBITS,
    )


def _child_bits(children: np.ndarray, seed: int) -> np.ndarray:
    """Each child's own encoding, a function of (seed, child) only (about a quarter of bits set).

    SplitMix64 over (child, word) keeps this O(chunk) in memory whatever the population size.
    """
    mask = np.uint64(2**64 - 1)
    out = np.empty((children.size, WORDS), np.uint64)
    with np.errstate(over="ignore"):
        for w in range(WORDS):
            words = []
            for salt in (1, 2):
                z = children.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
                z += np.uint64((seed * 131 + w * 2 + salt) * 0xBF58476D1CE4E5B9 & int(mask))
                z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
                z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
                words.append(z ^ (z >> np.uint64(31)))
            out[:, w] = words[0] & words[1]
    return out


def one_size(
    agencies: int, records: int, new_year: float, threshold: float, max_block: int, fuzzy_only: bool
) -> dict[str, Any]:
    """Generate, link once, and report (runs in the child process of one size)."""
    warm_up()
    t = time.perf_counter()
    arrays = scale_inputs(agencies, records, new_year, fuzzy_only)
    generate_s = time.perf_counter() - t
    data_gb = (
        sum(getattr(arrays, f).nbytes for f in ("bits", "block_tokens", "name_tokens", "id_tokens"))
        / 2**30
    )
    t = time.perf_counter()
    result = link_arrays(arrays, threshold=threshold, blocking=BlockingParams(max_block=max_block))
    seconds = time.perf_counter() - t
    labels = result.labels
    return {
        "records": arrays.size,
        "per_agency": records,
        "seconds": seconds,
        "generate_s": generate_s,
        "timings": result.timings,
        "links": result.links,
        "clusters": int(np.unique(labels).size),
        "children": records,
        "input_gb": data_gb,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }


def available_gb() -> float:
    """MemAvailable of this machine in GB (Linux)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 2**20
    return math.inf


def run_size(args: argparse.Namespace, records: int) -> dict[str, Any]:
    """One size in a fresh process, watched: stopped (not killed by the OS) below the floor."""
    command = [sys.executable, __file__, "--one", str(records), "--agencies", str(args.agencies),
               "--new-year", str(args.new_year), "--threshold", str(args.threshold),
               "--max-block", str(args.max_block)] + ["--fuzzy-only"] * args.fuzzy_only  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        lowest = math.inf
        while child.poll() is None:
            lowest = min(lowest, available_gb())
            if lowest < args.floor_gb:
                child.terminate()
                child.wait()
                return {"per_agency": records, "stopped": f"available memory below "
                        f"{args.floor_gb} GB", "lowest_available_gb": lowest}  # fmt: skip
            time.sleep(0.5)
        out = child.stdout.read() if child.stdout else ""
    if child.returncode:
        return {"per_agency": records, "failed": child.returncode}
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    figures["lowest_available_gb"] = lowest
    return figures


def exponent(a: dict[str, Any], b: dict[str, Any], key: str) -> float:
    """Growth exponent of ``key`` between two sizes (1.0: linear in records)."""
    return math.log(float(b[key]) / float(a[key])) / math.log(b["records"] / a["records"])


def service_round(agencies: int, records: int) -> dict[str, Any]:
    """One round through the service (bench_service.py) at the given size."""
    with Path(f"/tmp/bench_scale_service_{records}.json").open("w+") as out:
        subprocess.run(
            [sys.executable, str(HERE / "bench_service.py"), "--agencies", str(agencies),
             "--records", str(records), "--repeats", "1", "--json", out.name],
            check=True,
        )  # fmt: skip
        out.seek(0)
        return dict(json.load(out))


def main() -> None:
    """Run every size, print the curve with exponents and ratios, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=6)
    parser.add_argument("--records", type=int, nargs="+", default=[250_000, 500_000],
                        help="records per agency, one run per size")  # fmt: skip
    parser.add_argument("--new-year", type=float, default=0.04, help="share born on 1 January")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument(
        "--max-block",
        type=int,
        default=BlockingParams().max_block,
        help="lower it: small lists with the block sizes of large ones",
    )
    parser.add_argument(
        "--fuzzy-only", action="store_true", help="no identity or name tokens (fuzzy links all)"
    )
    parser.add_argument("--floor-gb", type=float, default=3.0, help="stop below this available")
    parser.add_argument("--service", action="store_true", help="one service round at 6 x 1 M")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.agencies, args.one, args.new_year, args.threshold,
                                 args.max_block, args.fuzzy_only)))  # fmt: skip
        return

    runs = [run_size(args, records) for records in sorted(args.records)]
    done = [r for r in runs if "seconds" in r]
    print(f"{'records':>12} {'seconds':>8} {'x first':>8} {'G comp.':>8} {'oversize':>8} "
          f"{'peak GB':>8} {'x first':>8} {'exp. time':>9} {'exp. comp.':>10} {'exp. peak':>9} "
          f"{'clusters/children':>17}")  # fmt: skip
    for r in runs:
        if "seconds" not in r:
            print(f"{r['per_agency'] * args.agencies:>12,} {r.get('stopped') or r.get('failed')}")
            continue
        first = done[0]
        r["comparisons"] = r["links"]["fuzzy_compared"]
        prev = done[done.index(r) - 1] if done.index(r) else None
        if prev:
            r["exponent"] = {k: exponent(prev, r, k) for k in ("seconds", "peak_rss_gb")}
            r["exponent"]["comparisons"] = exponent(prev, r, "comparisons")
        e = r.get("exponent", {})
        print(f"{r['records']:>12,} {r['seconds']:>8.1f} {r['seconds'] / first['seconds']:>8.2f} "
              f"{r['comparisons'] / 1e9:>8.2f} {r['links'].get('oversize_blocks', 0):>8} "
              f"{r['peak_rss_gb']:>8.2f} {r['peak_rss_gb'] / first['peak_rss_gb']:>8.2f} "
              f"{e.get('seconds', float('nan')):>9.2f} {e.get('comparisons', float('nan')):>10.2f} "
              f"{e.get('peak_rss_gb', float('nan')):>9.2f} "
              f"{r['clusters'] / r['children']:>17.4f}")  # fmt: skip
    figures: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs}
    if args.service:
        figures["service"] = service_round(args.agencies, 1_000_000)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float))


if __name__ == "__main__":
    main()
