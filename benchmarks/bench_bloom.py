"""Bloom-filter kernel: ``bloom_bits`` against its previous version and NumPy, on real inputs.

Generates N rows with ``bench_hashing.generate``, writes them as a CSV export, reads and normalises
it (``read_export``, ``normalise_export``) and runs ``BloomEncoder`` with the default parameters
(1024 bits, salt, diffusion), capturing the arguments it passes to the kernel. On exactly those
arguments it then times, alternating and keeping the best of ``--repeat`` runs:

* ``_hash_kernels.bloom_bits`` (one thread) and ``bloom_bits_parallel`` (all Numba threads);
* the previous kernel (word-by-word row in memory, a wrap-around branch per diffused word),
  kept below as ``baseline_bloom_bits`` and compiled with the same flags;
* a NumPy version (gather every gram's mask, ``bitwise_or.reduceat``, rolls for the diffusion)
  on the first ``--numpy-records`` records (it holds every gram's mask in memory at once).

All outputs are checked to be identical first. Only the kernel is timed, not the encoder.

Usage: ``python benchmarks/bench_bloom.py --records 200000 --json out.json``
(run with ``NUMBA_NUM_THREADS`` unset for the all-threads figures).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numba
import numpy as np
from _timing import alternate, one_thread
from bench_hashing import generate
from numba import prange

from matcher._numba_config import JIT, JIT_PARALLEL
from matcher.kernels import hashing as _hash_kernels
from matcher.steward.encodings import BloomEncoder
from matcher.steward.exports import read_export
from matcher.steward.hashed_file import EncodingParams
from matcher.steward.keys import RoundKeys, new_secret
from matcher.steward.normalise import normalise_export
from matcher.steward.tokens import date_words, name_columns

#: The previous kernel's records per parallel task.
_BASELINE_TASK_ROWS = 4096


@numba.njit(inline="always", **JIT)
def _baseline_diffuse_row(src: np.ndarray, taps: np.ndarray, dst: np.ndarray) -> None:
    """Previous kernel: ``dst`` bit ``j`` = XOR over ``s`` in ``taps`` of ``src`` bit ``j + s``."""
    words = src.shape[0]
    for w in range(words):
        dst[w] = np.uint64(0)
    for t in range(taps.shape[0]):
        s = taps[t]
        lo_i = (s >> 6) % words
        r = np.uint64(s & 63)
        if r == np.uint64(0):
            for w in range(words):
                dst[w] ^= src[lo_i]
                lo_i = lo_i + 1 if lo_i + 1 < words else 0
        else:
            back = np.uint64(64) - r
            for w in range(words):
                hi_i = lo_i + 1 if lo_i + 1 < words else 0
                dst[w] ^= (src[lo_i] >> r) | (src[hi_i] << back)
                lo_i = hi_i


@numba.njit(inline="always", **JIT)
def _baseline_bloom_row(masks, si, p0, p1, rec_item, item_off, item_gram, taps, row, dst):
    """Previous kernel: one record's filter, ORed word by word in ``row``, diffused into ``dst``."""
    words = row.shape[0]
    for w in range(words):
        row[w] = np.uint64(0)
    for p in range(p0, p1):
        t = rec_item[p]
        for q in range(item_off[t], item_off[t + 1]):
            g = item_gram[q]
            for w in range(words):
                row[w] |= masks[si, g, w]
    if taps.shape[0]:
        _baseline_diffuse_row(row, taps, dst)
    else:
        for w in range(words):
            dst[w] = row[w]


@numba.njit(**JIT)
def baseline_bloom_bits(masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out):
    """Previous ``bloom_bits`` (before the 1024-bit SIMD rows), same contract."""
    n, words = out.shape
    row = np.zeros(words, np.uint64)
    for i in range(n):
        _baseline_bloom_row(
            masks, rec_salt[i], rec_off[i], rec_off[i + 1], rec_item, item_off, item_gram,
            taps, row, out[i],
        )  # fmt: skip


@numba.njit(**JIT_PARALLEL)
def baseline_bloom_bits_parallel(
    masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out
):
    """Previous ``bloom_bits_parallel``, same contract."""
    n, words = out.shape
    tasks = (n + _BASELINE_TASK_ROWS - 1) // _BASELINE_TASK_ROWS
    for task in prange(tasks):
        row = np.zeros(words, np.uint64)
        for i in range(task * _BASELINE_TASK_ROWS, min(n, (task + 1) * _BASELINE_TASK_ROWS)):
            _baseline_bloom_row(
                masks, rec_salt[i], rec_off[i], rec_off[i + 1], rec_item, item_off, item_gram,
                taps, row, out[i],
            )  # fmt: skip


def numpy_bloom_bits(masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out):
    """``bloom_bits`` in NumPy: gather each record's gram masks, OR-reduce, roll and XOR."""
    n, words = out.shape
    items = np.diff(rec_off)
    rec_item = rec_item[rec_off[0] : rec_off[n]]
    item_rec = np.repeat(np.arange(n), items)
    per_item = np.diff(item_off)[rec_item]
    item_start = np.repeat(item_off[rec_item], per_item)
    within = np.arange(len(item_start)) - np.repeat(np.cumsum(per_item) - per_item, per_item)
    grams = item_gram[item_start + within]
    gram_rec = np.repeat(item_rec, per_item)
    rows = masks[rec_salt[gram_rec], grams]
    counts = np.bincount(gram_rec, minlength=n)
    raw = np.zeros((n, words), np.uint64)
    has = counts > 0
    if has.any():
        starts = (np.cumsum(counts) - counts)[has]
        raw[has] = np.bitwise_or.reduceat(rows, starts, axis=0)
    if not len(taps):
        out[:] = raw
        return
    out[:] = 0
    for s in taps.tolist():
        k, r = (s >> 6) % words, s & 63
        low = np.roll(raw, -k, axis=1)
        if r:
            high = np.roll(low, -1, axis=1)
            out ^= (low >> np.uint64(r)) | (high << np.uint64(64 - r))
        else:
            out ^= low


def kernel_inputs(records: int) -> list[tuple[np.ndarray, ...]]:
    """The argument tuples ``BloomEncoder.encode`` passes to the kernel for ``records`` rows."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        generate(records).write_csv(path, separator=";")
        export = read_export(path)
        frame = normalise_export(
            export.frame,
            reference_date=date(2026, 1, 1),
            source=path.name,
            headers=export.info.mapping.fields,
        ).records
    calls: list[tuple[np.ndarray, ...]] = []
    kernels = (_hash_kernels.bloom_bits, _hash_kernels.bloom_bits_parallel)

    def capture(*args: np.ndarray) -> None:
        calls.append(args[:-1])
        kernels[0](*args)

    _hash_kernels.bloom_bits = _hash_kernels.bloom_bits_parallel = capture
    try:
        encoder = BloomEncoder(RoundKeys.derive(new_secret(), "bench"), EncodingParams())
        encoder.encode(name_columns(frame), date_words(frame["birth_date"]))
    finally:
        _hash_kernels.bloom_bits, _hash_kernels.bloom_bits_parallel = kernels
    return calls


def main() -> None:
    """Capture the kernel inputs, check every version agrees, time them, print and save ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--numpy-records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    calls = kernel_inputs(args.records)
    words = EncodingParams().bits // 64
    outs = {name: [np.zeros((len(c[1]), words), np.uint64) for c in calls] for name in "nb"}

    def run(kernel: Callable[..., None], key: str) -> Callable[[], None]:
        def go() -> None:
            for call, out in zip(calls, outs[key], strict=True):
                kernel(*call, out)

        return go

    versions = {
        "new_1_thread": one_thread(run(_hash_kernels.bloom_bits, "n")),
        "baseline_1_thread": one_thread(run(baseline_bloom_bits, "b")),
        "new_all_threads": run(_hash_kernels.bloom_bits_parallel, "n"),
        "baseline_all_threads": run(baseline_bloom_bits_parallel, "b"),
    }
    for pair in (
        ("new_1_thread", "baseline_1_thread"),
        ("new_all_threads", "baseline_all_threads"),
    ):
        for name in pair:  # compile, then compare the outputs
            versions[name]()
        assert all((a == b).all() for a, b in zip(outs["n"], outs["b"], strict=True)), pair

    # NumPy on a prefix of the first call (a view of its records)
    masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps = calls[0]
    m = min(args.numpy_records, len(rec_salt))
    sub = (masks, rec_salt[:m], rec_off[: m + 1], rec_item, item_off, item_gram, taps)
    numpy_out, want = np.zeros((m, words), np.uint64), np.zeros((m, words), np.uint64)
    _hash_kernels.bloom_bits(*sub, want)
    numpy_bloom_bits(*sub, numpy_out)
    assert (numpy_out == want).all(), "NumPy version differs"

    load_before = os.getloadavg()[0]
    seconds = alternate(versions, args.repeat)
    numpy_seconds = alternate({"numpy": lambda: numpy_bloom_bits(*sub, numpy_out)}, 3)
    load_after = os.getloadavg()[0]

    n = sum(len(c[1]) for c in calls)
    ns = {name: value / n * 1e9 for name, value in seconds.items()}
    ns["numpy"] = numpy_seconds["numpy"] / m * 1e9
    ratios = {
        "1_thread": ns["baseline_1_thread"] / ns["new_1_thread"],
        "all_threads": ns["baseline_all_threads"] / ns["new_all_threads"],
        "numpy_vs_new_1_thread": ns["numpy"] / ns["new_1_thread"],
    }
    grams = sum(int(np.diff(c[4])[c[3]].sum()) for c in calls) / n
    threads = numba.get_num_threads()
    print(
        f"{n:,} records in {len(calls)} kernel call(s), {grams:.1f} grams per record, "
        f"masks {calls[0][0].nbytes / 2**20:.1f} MiB, {threads} threads"
    )
    print(f"{'':22} {'ns/record':>10}")
    for name, value in ns.items():
        print(f"{name:22} {value:10.1f}")
    print(
        f"speed-up over the previous kernel: {ratios['1_thread']:.2f}x on 1 thread, "
        f"{ratios['all_threads']:.2f}x on {threads} threads; "
        f"NumPy is {ratios['numpy_vs_new_1_thread']:.1f}x slower than the new kernel"
    )
    print(f"1-min load average before/after: {load_before:.2f} / {load_after:.2f}")

    if args.json:
        figures = {
            "records": n,
            "kernel_calls": len(calls),
            "numpy_records": m,
            "grams_per_record": grams,
            "bits": words * 64,
            "threads": threads,
            "repeat": args.repeat,
            "ns_per_record": ns,
            "ratios": ratios,
            "load_average_1min_before_after": [load_before, load_after],
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
