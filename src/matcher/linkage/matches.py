"""Matching pairs of the fuzzy pass, reduced to distinct pairs as the chunks of blocks arrive.

Tiles of an oversize block overlap (by half, and across ``passes``), so one pair of similar
records is found up to ``2 * passes`` times in one block, and in every oversize block the two
share. Buffering every copy until the end is what made the fuzzy pass's memory grow without
bound once most blocks became oversize (6 x 2.3 M records: every birth date holds more than
``max_block`` children). Here the chunks' matches are reduced to distinct pairs and merged into
the pairs kept so far as soon as the pending copies outgrow both the kept pairs and a share of
the memory budget (``PENDING_SHARE``), so memory stays within the budget and, between merges,
follows the distinct matches (``MATCH_BYTES`` each); each merge is checked against the budget.
"""

from __future__ import annotations

import numpy as np

from matcher.kernels import linkage as _kernels
from matcher.linkage.budget import MemoryBudget

#: Bytes per pair in the block kernel's buffers (left, right, Dice).
PAIR_BYTES = 24
#: Bytes per distinct match kept (pair key, Dice).
MATCH_BYTES = 16
#: A merge holds the kept pairs, the pending ones and their sorted copies at once.
MERGE_COPIES = 3
#: Share of the memory budget that reduced chunks may fill before they are merged.
PENDING_SHARE = 1 / 16


def distinct_pairs(key: np.ndarray, dice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (as ``left * (n + 1) + right`` keys) sorted ascending, each once, with their Dice."""
    key, index = _kernels.sort_tokens(key, np.arange(key.size, dtype=np.int64))
    fresh = np.ones(key.size, dtype=bool)
    fresh[1:] = key[1:] != key[:-1]
    return key[fresh], dice[index[fresh]]


class MatchSet:
    """Distinct matching pairs of ``n`` records, within a memory budget."""

    def __init__(self, n: int, budget: MemoryBudget, merge_at: int | None = None) -> None:
        """``merge_at``: pending pairs that force a merge (default: from the budget)."""
        self._stride = np.uint64(n + 1)
        self._budget = budget
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._kept = 0
        self._pending = 0
        # one sort of everything is cheapest; sorting sooner only pays when memory asks for it
        share = int(budget.limit * PENDING_SHARE) // (MERGE_COPIES * MATCH_BYTES)
        self._merge_at = max(1, merge_at if merge_at is not None else share)

    def __len__(self) -> int:
        """Pairs held now (distinct once :meth:`strongest_first` has merged them)."""
        return self._kept + self._pending

    def add(self, left: np.ndarray, right: np.ndarray, dice: np.ndarray) -> None:
        """Add one chunk's matches (``left < right``; ``dice`` is kept, not copied); copies of a
        pair are dropped at the next merge."""
        key = left.astype(np.uint64) * self._stride + right.astype(np.uint64)
        self._parts.append((key, dice))
        self._pending += int(key.size)
        if self._pending > max(self._kept, self._merge_at):
            self._merge()

    def _merge(self) -> None:
        self._budget.require(
            MERGE_COPIES * MATCH_BYTES * (self._kept + self._pending), "the fuzzy pass's matches"
        )
        if self._pending:
            key, dice = distinct_pairs(*(np.concatenate(p) for p in zip(*self._parts, strict=True)))
            self._parts = [(key, dice)]
        self._kept = int(self._parts[0][0].size) if self._parts else 0
        self._pending = 0

    def strongest_first(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(left, right, Dice) of every distinct pair: decreasing Dice, then by (left, right).

        Dice values are ratios ``2a / b`` with ``b <= 16384``, so two different values differ
        by more than ``2**-32`` and ``round(dice * 2**32)`` is an exact, order-keeping key; the
        sort is stable on the pairs' ascending order.
        """
        self._merge()
        if not self._parts:
            empty = np.zeros(0, np.int64)
            return empty, empty, np.zeros(0)
        key, dice = self._parts[0]
        weakness = np.uint64(2**33) - np.round(dice * 2.0**32).astype(np.uint64)
        _, order = _kernels.sort_tokens(weakness, np.arange(weakness.size, dtype=np.int64))
        key, dice = key[order], dice[order]
        left = (key // self._stride).astype(np.int64)
        right = (key % self._stride).astype(np.int64)
        return left, right, dice
