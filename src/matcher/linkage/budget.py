"""Memory budget of the linkage passes: a setting, and plans that keep working state within it.

A pass that could outgrow memory (the fuzzy pass's pair buffers and its reduced matches, later
the comparison model's tiles) asks :func:`plan_chunk` how many items to hold at once and calls
:meth:`MemoryBudget.require` before it grows a buffer, so a list too large for the machine ends
in a clear :class:`~matcher.errors.LinkageError` instead of the kernel's out-of-memory kill.
The budget is ``MATCHER_MEMORY_BUDGET`` (bytes, or with a K/M/G suffix) when set, else half of
the machine's physical memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from matcher.errors import ConfigError, LinkageError

#: Environment variable holding the budget (e.g. ``12G``).
BUDGET_ENV = "MATCHER_MEMORY_BUDGET"
#: Share of physical memory used when the variable is not set.
DEFAULT_SHARE = 0.5
#: Smallest budget accepted: below this nothing useful fits.
MIN_BUDGET = 16 << 20

_SUFFIXES = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """``'12G'`` -> bytes; a plain integer is bytes. Refuses anything else with ConfigError."""
    clean = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (clean[:-1], clean[-1]) if clean[-1:] in _SUFFIXES else (clean, "")
    try:
        value = float(number) * _SUFFIXES[unit]
    except ValueError:
        raise ConfigError(
            f"{BUDGET_ENV} must be a size such as 8G or 500M", reason="memory_budget"
        ) from None
    return int(value)


def physical_memory() -> int:
    """Bytes of physical memory on this machine (0 when the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX platforms
        return 0


@dataclass(frozen=True)
class MemoryBudget:
    """Bytes the working state of one linkage pass may take (the inputs are not counted)."""

    limit: int

    def __post_init__(self) -> None:
        if self.limit < MIN_BUDGET:
            raise ConfigError(
                f"memory budget must be at least {MIN_BUDGET >> 20} MB", reason="memory_budget"
            )

    @classmethod
    def from_environment(cls) -> MemoryBudget:
        """``MATCHER_MEMORY_BUDGET`` when set, else half the physical memory (4 GB if unknown)."""
        text = os.environ.get(BUDGET_ENV, "").strip()
        if text:
            return cls(parse_size(text))
        machine = physical_memory() or 8 << 30
        return cls(max(MIN_BUDGET, int(machine * DEFAULT_SHARE)))

    def require(self, nbytes: int, what: str) -> None:
        """Refuse (LinkageError, reason ``memory``) state of ``nbytes`` above the budget."""
        if nbytes > self.limit:
            raise _over_budget(what, nbytes, self.limit)


def plan_chunk(
    budget: MemoryBudget, item_bytes: int, *, share: float, largest: int, preferred: int, what: str
) -> int:
    """Items to hold at once: ``preferred`` when it fits in ``share`` of the budget, fewer when
    not, never fewer than ``largest`` (the biggest unit that cannot be split; LinkageError when
    even that does not fit)."""
    room = int(budget.limit * share) // item_bytes
    if largest > room:
        raise _over_budget(what, largest * item_bytes, int(budget.limit * share))
    return max(largest, min(preferred, room), 1)


def _over_budget(what: str, nbytes: int, limit: int) -> LinkageError:
    """The error for state that does not fit (sizes only: never a value from the data)."""
    return LinkageError(
        f"{what} needs {nbytes / 2**30:.2f} GB, above its memory budget of {limit / 2**30:.2f} GB"
        f" (raise {BUDGET_ENV} or link fewer records at once)",
        reason="memory",
    )
