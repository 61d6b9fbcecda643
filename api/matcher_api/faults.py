"""Crash points for the fault-injection tests: the service kills itself (SIGKILL) at a named step.

``MATCHER_FAULT_POINT=upload.after_commit`` arms one point for the process's lifetime;
``upload.after_commit@2`` fires on its second pass. Unset (always, in production) every point
is a dictionary lookup and nothing else. The tests (``tests/api/test_faults.py``) restart the
service after each kill and check what a crash can and cannot lose.
"""

from __future__ import annotations

import os
import signal
import threading

FAULT_ENV = "MATCHER_FAULT_POINT"
POINTS = (
    "upload.before_commit",  # the new upload is written, its transaction not committed
    "upload.after_commit",  # committed, the response not yet sent
    "match.running",  # the job is marked running, nothing linked yet
    "match.before_commit",  # the results are written, their transaction not committed
    "match.after_commit",  # the results are committed
    "purge.before_commit",  # every row of the round deleted, not committed
    "purge.before_scrub",  # committed; the deleted rows' bytes not yet scrubbed from the files
    "purge.after_commit",  # committed and scrubbed, the response not yet sent
)


def _armed(value: str | None) -> tuple[str, int] | None:
    """The armed point and the pass it fires on, from the variable's value (None: unarmed)."""
    if not value:
        return None
    name, _, nth = value.partition("@")
    if name not in POINTS or not (nth or "1").isdigit():
        raise ValueError(f"{FAULT_ENV} must be one of {', '.join(POINTS)} (optionally @N)")
    return name, int(nth or "1")


_ARMED = _armed(os.environ.get(FAULT_ENV))
_passes: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    """Kill this process here, at once and without cleanup, if ``name`` is the armed point and
    this is the pass it was armed for; do nothing otherwise."""
    if _ARMED is None or _ARMED[0] != name:
        return
    with _lock:
        _passes[name] = _passes.get(name, 0) + 1
        if _passes[name] == _ARMED[1]:
            os.kill(os.getpid(), signal.SIGKILL)
