"""Timing helpers shared by the benchmarks: best-of-N and one-thread runs of a callable."""

from __future__ import annotations

import time
from collections.abc import Callable

import numba


def best(fn: Callable[[], object], repeat: int) -> float:
    """Fewest seconds ``fn`` took over ``repeat`` calls."""
    return alternate({"fn": fn}, repeat)["fn"]


def alternate(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best seconds of each of ``fns``, run in turn ``repeat`` times (same load for all)."""
    fastest = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            fastest[name] = min(fastest[name], time.perf_counter() - start)
    return fastest


def one_thread(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` run with Numba limited to one thread."""

    def run() -> object:
        before = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return fn()
        finally:
            numba.set_num_threads(before)

    return run
