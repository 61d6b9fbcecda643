"""Truncated HMAC-SHA256 match keys: the multi-buffer Numba kernel against SipHash and Python.

Times ``_hmac_kernels.hmac_words`` on N random 4-word (32-byte) messages, on one thread and on
all threads (``hmac_words_parallel``). In the same run, on the same words: SipHash-2-4
(``_hash_kernels.sip4_many``, the keyed hash it replaces), the scalar kernel ``hmac_strings``
on the same messages as byte strings (one message at a time), and a Python loop of
``hmac.digest`` calls on a subsample (messages prepared beforehand, so only the HMAC is timed).
Each figure is the best of ``--repeat`` runs; the kernels are checked against ``hmac`` first.

Usage: ``python benchmarks/bench_hmac.py --n 3000000 --json out.json``
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
from pathlib import Path

import numba
import numpy as np
from _timing import best, one_thread

from matcher.kernels import hashing as _hash_kernels
from matcher.kernels import hmac as _hmac_kernels

WORDS_PER_MESSAGE = 4


def main() -> None:
    """Run the benchmark and print ns per HMAC with ratios, optionally as JSON too."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3_000_000, help="messages")
    parser.add_argument("--baseline-n", type=int, default=100_000, help="messages for Python")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    rng = np.random.default_rng(11)
    key = rng.bytes(32)
    words = rng.integers(0, 2**64, size=(args.n, WORDS_PER_MESSAGE), dtype=np.uint64)
    sub = words[: min(args.baseline_n, args.n)]
    messages = [row.astype("<u8").tobytes() for row in sub]
    data = np.frombuffer(b"".join(messages) + b"\x00", dtype=np.uint8)
    offsets = np.arange(len(messages) + 1, dtype=np.int64) * 8 * WORDS_PER_MESSAGE
    istate, ostate = _hmac_kernels.hmac_states(key)
    k0, k1 = np.uint64(1), np.uint64(2)

    want = [int.from_bytes(hmac.digest(key, m, "sha256")[:8], "little") for m in messages[:1000]]
    for got in (
        _hmac_kernels.hmac_words(istate, ostate, sub[:1000]),
        _hmac_kernels.hmac_words_parallel(istate, ostate, sub[:1000]),
        _hmac_kernels.hmac_strings(istate, ostate, data, offsets[:1001]),
    ):
        assert got.tolist() == want, "kernel disagrees with hmac"
    _hash_kernels.sip4_many(k0, k1, sub[:10])

    threads = numba.get_num_threads()
    seconds = {
        "hmac_words_1_thread": best(
            one_thread(lambda: _hmac_kernels.hmac_words(istate, ostate, words)), args.repeat
        ),
        "hmac_words_parallel": best(
            lambda: _hmac_kernels.hmac_words_parallel(istate, ostate, words), args.repeat
        ),
        "siphash_sip4_many": best(lambda: _hash_kernels.sip4_many(k0, k1, words), args.repeat),
    }
    sub_seconds = {
        "hmac_strings_scalar": best(
            lambda: _hmac_kernels.hmac_strings(istate, ostate, data, offsets), args.repeat
        ),
        "python_hmac_digest": best(lambda: [hmac.digest(key, m, "sha256") for m in messages], 1),
    }
    ns = {k: v / args.n * 1e9 for k, v in seconds.items()}
    ns |= {k: v / len(messages) * 1e9 for k, v in sub_seconds.items()}

    base = ns["hmac_words_1_thread"]
    print(f"{args.n:,} messages of {8 * WORDS_PER_MESSAGE} bytes, {threads} threads")
    print(f"{'':24} {'ns/HMAC':>9} {'vs hmac_words 1 thread':>24}")
    for name, value in ns.items():
        print(f"{name:24} {value:9.1f} {value / base:23.2f}x")
    load = (load_before, os.getloadavg()[0])
    print(f"1-min load average before/after: {load[0]:.2f} / {load[1]:.2f}")

    if args.json:
        figures = {
            "n": args.n,
            "baseline_n": len(messages),
            "words_per_message": WORDS_PER_MESSAGE,
            "threads": threads,
            "ns_per_hmac": ns,
            "ratio_to_hmac_words_1_thread": {k: v / base for k, v in ns.items()},
            "load_average_1min_before_after": load,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
