"""Plain-Python twins of ``tokens``: same names, signatures and contracts, no Numba."""

from __future__ import annotations

from datetime import date

import numpy as np

from matcher.kernels.siphash_reference import sip4
from matcher.kernels.tokens import (
    BLOCK_DATE,
    BLOCK_GIVEN_SURNAME,
    BLOCK_PAIR_NAMES,
    BLOCK_YEAR_GIVEN,
    BLOCK_YEAR_SURNAME,
    NAME_FULL,
)


def packed_dates(days: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Dates given as days since 1970-01-01, packed ``year<<16 | month<<8 | day`` (0 where not
    ``valid``), through ``datetime.date``."""
    epoch = date(1970, 1, 1).toordinal()
    out = []
    for d, ok in zip(days, valid, strict=True):
        if not ok:
            out.append(0)
            continue
        day = date.fromordinal(epoch + int(d))
        out.append(day.year << 16 | day.month << 8 | day.day)
    return np.array(out, dtype=np.uint64)


def name_token_messages(
    dates: np.ndarray,
    g_off: np.ndarray,
    g_word: np.ndarray,
    p_off: np.ndarray,
    p_word: np.ndarray,
    full_word: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The messages of each record's name tokens, rows ``(NAME_FULL, date, given, surname)``."""
    rows: list[list[int]] = []
    off = [0]
    for i, d in enumerate(int(x) for x in dates):
        given = [int(w) for w in g_word[g_off[i] : g_off[i + 1]]]
        parts = [int(w) for w in p_word[p_off[i] : p_off[i + 1]]]
        if d and full_word[i]:
            rows += [[NAME_FULL, d, g, int(full_word[i])] for g in given]
            if len(parts) > 1:
                rows += [[NAME_FULL, d, g, p] for g in given for p in parts]
        off.append(len(rows))
    return np.array(off, dtype=np.int64), np.array(rows, dtype=np.uint64).reshape(-1, 4)


def _store(out: np.ndarray, i: int, values: list[int]) -> int:
    row: list[int] = []
    for v in values:
        if v not in row and len(row) < out.shape[1]:
            row.append(v)
    out[i, : len(row)] = np.array(row, dtype=np.uint64)
    return len(row)


def block_tokens(
    k0: int,
    k1: int,
    dates: np.ndarray,
    g_off: np.ndarray,
    g_pre: np.ndarray,
    s_off: np.ndarray,
    s_pre: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """Keyed blocking values per record into ``out[n, MAX_BLOCK_TOKENS]``; returns counts."""
    counts = np.zeros(len(dates), np.int64)
    for i, d in enumerate(int(x) for x in dates):
        gp = [int(w) for w in g_pre[g_off[i] : g_off[i + 1]]]
        sp = [int(w) for w in s_pre[s_off[i] : s_off[i + 1]]]
        y = d & 0xFFFF0000
        keys: list[int] = []
        if d:
            keys.append(sip4(k0, k1, BLOCK_DATE, d, 0, 0))
            keys += [sip4(k0, k1, BLOCK_YEAR_SURNAME, y, s, 0) for s in sp]
            keys += [sip4(k0, k1, BLOCK_YEAR_GIVEN, y, g, 0) for g in gp]
        keys += [
            sip4(k0, k1, BLOCK_GIVEN_SURNAME, g, s, 0)
            for g in gp[:BLOCK_PAIR_NAMES]
            for s in sp[:BLOCK_PAIR_NAMES]
        ]
        counts[i] = _store(out, i, keys)
    return counts


#: The parallel driver has the same contract as the sequential one.
block_tokens_parallel = block_tokens
