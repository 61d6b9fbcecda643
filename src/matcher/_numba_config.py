"""Every Numba compilation flag used by matcher's kernels, in one place.

Kernels take their options from :data:`JIT` (sequential) or :data:`JIT_PARALLEL` (kernels with
``prange``); no module hard-codes ``fastmath=``, ``parallel=`` or ``cache=`` itself.
"""

from __future__ import annotations

from typing import Any

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
