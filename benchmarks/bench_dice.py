"""Dice comparisons per second against the machine's measured limit, NumPy and anonlink.

    python benchmarks/bench_dice.py --block 2048 --repeat 5 \
        --anonlink-python /tmp/eval-clk-venv/bin/python --json dice.json

The limit is ``popcount_probe.c`` (the kernel's comparison loop in C with AVX-512 VPOPCNTQ where
the compiler targets it), built with the machine's ``cc`` and run on one thread and on every core
(Python threads: ctypes releases the GIL). The Numba block kernel (``block_pair_dice``) runs on
one block with one thread and on one block per core with all threads; probe and kernel alternate
``--repeat`` times (best of each), so a shared machine's load falls on both. Reported: rates,
the kernel's share of the limit on the same thread count (and of ``port_peak``: one 512-bit
popcount per cycle at the clock /proc/cpuinfo states, two per pair of 1024-bit rows), and the
ratio to plain NumPy
(``np.bitwise_count``) and to anonlink's C++ kernel (``dice_coefficient_accelerated`` over A x B,
run in ``--anonlink-python``, a venv where anonlink is installed) on the same encodings.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import numba
import numpy as np
from _timing import alternate, one_thread
from bench_linkage import numpy_rate, random_encodings

from matcher.kernels import linkage as _kernels

HERE = Path(__file__).resolve().parent

ANONLINK_SNIPPET = """
import sys, time, numpy as np
from anonlink.similarities import dice_coefficient_accelerated
from bitarray import bitarray
bits = np.load(sys.argv[1]); thr = float(sys.argv[2]); half = bits.shape[0] // 2
def rows(block):
    out = []
    for row in block:
        b = bitarray(); b.frombytes(row.tobytes()); out.append(b)
    return out
a, b = rows(bits[:half]), rows(bits[half:2 * half])
dice_coefficient_accelerated((a, b), thr)
best = float("inf")
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); dice_coefficient_accelerated((a, b), thr)
    best = min(best, time.perf_counter() - t)
print(half * half / best)
"""


def build_probe(workdir: Path) -> Any:
    """Compile popcount_probe.c for this machine; None when no C compiler is installed."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    lib = workdir / "probe.so"
    subprocess.run(
        [cc, "-O3", "-march=native", "-shared", "-fPIC", "-o", str(lib),
         str(HERE / "popcount_probe.c")],
        check=True,
    )  # fmt: skip
    probe = ctypes.CDLL(str(lib)).probe
    probe.restype = ctypes.c_longlong
    probe.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long, ctypes.c_long,
                      ctypes.c_double]  # fmt: skip
    return probe


def probe_runner(probe: Any, bits: np.ndarray, threshold: float, threads: int) -> Any:
    """A callable running the probe over all pairs of ``bits`` on ``threads`` threads at once."""
    m, words = bits.shape
    panels = np.zeros(((m + 31) // 32 * 32, words), np.uint64)
    panels[:m] = bits
    panels = np.ascontiguousarray(panels.reshape(-1, 8, words).transpose(0, 2, 1))
    counts = np.zeros(panels.shape[0] * 8, np.int64)
    counts[:m] = np.bitwise_count(bits).sum(axis=1)

    def once() -> None:
        probe(panels.ctypes.data, counts.ctypes.data, m, words, threshold)

    def run() -> None:
        workers = [threading.Thread(target=once) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    return run


def anonlink_rate(python: str, bits: np.ndarray, threshold: float, repeat: int) -> float | None:
    """anonlink's Dice rate over A x B in its own interpreter; None when it cannot run."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bits.npy"
        np.save(path, bits.view(np.uint8).reshape(bits.shape[0], -1))
        run = subprocess.run(
            [python, "-c", ANONLINK_SNIPPET, str(path), str(threshold), str(repeat)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if run.returncode:
        print(run.stderr.strip().splitlines()[-1:], file=sys.stderr)
        return None
    return float(run.stdout.strip().splitlines()[-1])


def kernel_runner(bits: np.ndarray, blocks: int, threshold: float) -> Any:
    """A callable running the block kernel once over ``blocks`` equal blocks covering ``bits``."""
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
    members, no_blocks = np.arange(n, dtype=np.int64), np.zeros(n + 1, np.int64)

    def run() -> None:
        _kernels.block_pair_dice(
            members, starts, 0, blocks, offsets, no_blocks, np.zeros(0, np.int64), bits,
            counts, group, gtoken, ghas, threshold, *out, found, seen,
        )  # fmt: skip

    run()  # compile or load from the cache before timing
    return run


def port_peak(words: int) -> float | None:
    """Pairs per second one core could compare at one 512-bit ``vpopcntq`` per cycle (the
    processor's single popcount port) at its stated clock; None without AVX512_VPOPCNTDQ."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if "avx512_vpopcntdq" not in info:
        return None
    mhz = next(float(line.split(":")[1]) for line in info.splitlines() if "MHz" in line)
    return mhz * 1e6 / (words / 8)


def main() -> None:
    """Measure, print rates with shares and ratios, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block", type=int, default=2048, help="encodings per block")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--repeat", type=int, default=5, help="alternating runs (best is kept)")
    parser.add_argument("--anonlink-python", default=None, help="interpreter with anonlink")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    cores = numba.get_num_threads()
    one = random_encodings(rng, args.block)
    many = random_encodings(rng, cores * args.block)
    pairs = args.block * (args.block - 1) // 2
    fns: dict[str, Any] = {
        "kernel_1_thread": one_thread(kernel_runner(one, 1, args.threshold)),
        "kernel_all_threads": kernel_runner(many, cores, args.threshold),
    }
    work = {"kernel_1_thread": pairs, "kernel_all_threads": cores * pairs}
    with tempfile.TemporaryDirectory() as tmp:
        probe = build_probe(Path(tmp))
        if probe is not None:
            fns["limit_1_thread"] = probe_runner(probe, one, args.threshold, 1)
            fns["limit_all_threads"] = probe_runner(probe, one, args.threshold, cores)
            work |= {"limit_1_thread": pairs, "limit_all_threads": cores * pairs}
        seconds = alternate(fns, args.repeat)
    rates: dict[str, float | None] = {k: work[k] / s for k, s in seconds.items()}
    peak = port_peak(one.shape[1])
    rates["port_peak_1_thread"] = peak
    rates["port_peak_all_threads"] = peak * cores if peak else None
    rates["numpy"] = numpy_rate(one[: min(1024, args.block)], args.threshold)
    rates["anonlink"] = (
        anonlink_rate(args.anonlink_python, one, args.threshold, args.repeat)
        if args.anonlink_python
        else None
    )
    rows = []
    for name, rate in rates.items():
        if rate is None:
            rows.append((name, "not run", ""))
            continue
        notes = []
        for limit_name in ("limit", "port_peak"):
            limit = rates.get(name.replace("kernel", limit_name))
            if name.startswith("kernel") and limit:
                notes.append(f"{rate / limit:.0%} of {limit_name}")
        for base in ("numpy", "anonlink"):
            if name != base and rates.get(base):
                notes.append(f"{rate / rates[base]:.1f}x {base}")  # type: ignore[operator]
        rows.append((name, f"{rate / 1e6:,.0f} M/s", ", ".join(notes)))
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")
    if args.json:
        figures = {"args": {k: str(v) for k, v in vars(args).items()}, "cores": cores,
                   "rates_per_s": rates}  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
