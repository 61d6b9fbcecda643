"""Every Numba compilation flag used by matcher's kernels, in one place.

Kernels take their options from :data:`JIT` (sequential) or :data:`JIT_PARALLEL` (kernels with
``prange``); no module hard-codes ``fastmath=``, ``parallel=`` or ``cache=`` itself. Whether a
call runs on all threads is one rule, :func:`use_parallel` over :data:`PARALLEL_MIN_ITEMS`: callers
with a sequential and a parallel driver ask it directly, callers of a ``prange`` kernel wrap the
call in :func:`threads_for`, which asks the same rule.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numba

#: Compile once, keep the machine code in ``__pycache__`` (first-call cost paid once per install).
CACHE = True
#: Release the GIL inside kernels so a service can link one round while it serves requests.
NOGIL = True
#: Kernels over many independent blocks or buckets use ``prange``.
PARALLEL = True
#: Off on purpose: the kernels are integer work, and the one float operation (the Dice ratio)
#: must round exactly like the plain-Python reference so threshold decisions agree bit for bit.
FASTMATH = False
#: Index checks are done once in the Python wrappers, never per element in the hot loops.
BOUNDSCHECK = False

JIT: dict[str, Any] = {
    "cache": CACHE,
    "nogil": NOGIL,
    "fastmath": FASTMATH,
    "boundscheck": BOUNDSCHECK,
}
JIT_PARALLEL: dict[str, Any] = {**JIT, "parallel": PARALLEL}

#: The one parallelism threshold: below this many items (rows, pairs, tokens) a kernel runs on
#: the calling thread only, because waking the other threads costs more than the work (much more
#: on a busy machine). Rows from the steward side and items in the linkage core use the same rule.
PARALLEL_MIN_ITEMS = 20_000

_local = threading.local()


def use_parallel(items: int) -> bool:
    """The one rule: spread ``items`` over threads only if there are enough of them and this
    thread is not already one of several working side by side (:func:`sequential_kernels`)."""
    return items >= PARALLEL_MIN_ITEMS and not getattr(_local, "sequential", False)


@contextmanager
def threads_for(items: int) -> Iterator[None]:
    """Apply :func:`use_parallel` to ``prange`` kernels called in the block: one thread if no."""
    if use_parallel(items):
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


@contextmanager
def sequential_kernels() -> Iterator[None]:
    """In this block, on this thread, :func:`use_parallel` says no: for work already spread over
    threads (chunks hashed side by side), so kernels never nest thread pools."""
    before = getattr(_local, "sequential", False)
    _local.sequential = True
    try:
        yield
    finally:
        _local.sequential = before
