"""Every Numba compilation flag used by matcher's kernels, in one place.

Kernels take their options from :data:`JIT` (sequential) or :data:`JIT_PARALLEL` (kernels with
``prange``); no module hard-codes ``fastmath=``, ``parallel=`` or ``cache=`` itself.
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

#: Below this many items a parallel kernel runs on the calling thread only: waking the other
#: threads costs more than the work, and much more on a busy machine.
PARALLEL_MIN_ITEMS = 50_000


@contextmanager
def threads_for(items: int) -> Iterator[None]:
    """Run the enclosed kernel calls on one thread when ``items`` is small (thread-local)."""
    if items >= PARALLEL_MIN_ITEMS:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


_local = threading.local()


@contextmanager
def sequential_kernels() -> Iterator[None]:
    """In this block, on this thread, `use_parallel` says no: for work already spread over
    threads (chunks hashed side by side), so kernels never nest thread pools."""
    before = getattr(_local, "sequential", False)
    _local.sequential = True
    try:
        yield
    finally:
        _local.sequential = before


def use_parallel(items: int, min_items: int = PARALLEL_MIN_ITEMS) -> bool:
    """Whether to call a kernel's ``*_parallel`` driver for ``items`` items on this thread."""
    return items >= min_items and not getattr(_local, "sequential", False)
