"""Token-message and blocking kernels: what is hashed for each record's name tokens and blocks.

Kernels over records come in two drivers around one inlined row body: sequential (small inputs,
no thread start-up) and ``*_parallel`` (``prange``, large chunks). Plain-Python twin:
``tokens_reference``.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from matcher._numba_config import JIT, JIT_PARALLEL
from matcher.kernels.siphash import sip4

#: Token and block kinds: the first SipHash word, so each kind has its own domain.
ID_TAG = 1
NAME_FULL = 1
BLOCK_DATE, BLOCK_YEAR_SURNAME, BLOCK_YEAR_GIVEN, BLOCK_GIVEN_SURNAME = 1, 2, 3, 4
#: At most this many block tokens per record.
MAX_BLOCK_TOKENS = 12
#: The given-name × surname-prefix block uses at most this many of each.
BLOCK_PAIR_NAMES = 2


@numba.njit(**JIT)
def packed_dates(days: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Dates given as days since 1970-01-01, packed ``year<<16 | month<<8 | day`` (0 where not
    ``valid``): the civil-from-days algorithm of H. Hinnant, proleptic Gregorian calendar."""
    n = days.shape[0]
    out = np.zeros(n, np.uint64)
    for i in range(n):
        if not valid[i]:
            continue
        z = np.int64(days[i]) + 719468
        era = (z if z >= 0 else z - 146096) // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        day = doy - (153 * mp + 2) // 5 + 1
        month = mp + 3 if mp < 10 else mp - 9
        year = yoe + era * 400 + (1 if month <= 2 else 0)
        out[i] = np.uint64((year << 16) | (month << 8) | day)
    return out


@numba.njit(**JIT)
def name_token_messages(
    dates: np.ndarray,
    g_off: np.ndarray,
    g_word: np.ndarray,
    p_off: np.ndarray,
    p_word: np.ndarray,
    full_word: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The messages of each record's name tokens, rows ``(NAME_FULL, date, given, surname)``.

    Record ``i`` (with a date and a surname word) gets one row per given name with its whole
    surname ``full_word[i]``, then, when it has 2+ surname parts, one per given name and part.
    Returns CSR offsets per record and the ``uint64[m, 4]`` rows, record by record.
    """
    n = dates.shape[0]
    off = np.zeros(n + 1, np.int64)
    for i in range(n):
        c = 0
        if dates[i] != 0 and full_word[i] != 0:
            given = g_off[i + 1] - g_off[i]
            parts = p_off[i + 1] - p_off[i]
            c = given * (1 + parts) if parts > 1 else given
        off[i + 1] = off[i] + c
    out = np.empty((off[n], 4), np.uint64)
    tag = np.uint64(NAME_FULL)
    for i in range(n):
        r = off[i]
        if r == off[i + 1]:
            continue
        for g in range(g_off[i], g_off[i + 1]):
            out[r, 0], out[r, 1], out[r, 2], out[r, 3] = tag, dates[i], g_word[g], full_word[i]
            r += 1
        if p_off[i + 1] - p_off[i] > 1:
            for g in range(g_off[i], g_off[i + 1]):
                for p in range(p_off[i], p_off[i + 1]):
                    out[r, 0], out[r, 1], out[r, 2], out[r, 3] = tag, dates[i], g_word[g], p_word[p]
                    r += 1
    return off, out


@numba.njit(inline="always", **JIT)
def _push(out: np.ndarray, i: int, count: int, value: np.uint64) -> int:
    """Append ``value`` to row ``i`` unless present or full; return the new count."""
    for j in range(count):
        if out[i, j] == value:
            return count
    if count < out.shape[1]:
        out[i, count] = value
        return count + 1
    return count


@numba.njit(inline="always", **JIT)
def _block_row(k0, k1, i, d, g0, g1, g_pre, s0, s1, s_pre, out):  # type: ignore[no-untyped-def]
    """Blocking values of record ``i`` into ``out[i]``; returns how many."""
    zero = np.uint64(0)
    y = d & (np.uint64(0xFFFF) << np.uint64(16))
    c = 0
    if d != zero:
        c = _push(out, i, c, sip4(k0, k1, np.uint64(BLOCK_DATE), d, zero, zero))
        for s in range(s0, s1):
            c = _push(out, i, c, sip4(k0, k1, np.uint64(BLOCK_YEAR_SURNAME), y, s_pre[s], zero))
        for g in range(g0, g1):
            c = _push(out, i, c, sip4(k0, k1, np.uint64(BLOCK_YEAR_GIVEN), y, g_pre[g], zero))
    for g in range(g0, min(g1, g0 + BLOCK_PAIR_NAMES)):
        for s in range(s0, min(s1, s0 + BLOCK_PAIR_NAMES)):
            t = sip4(k0, k1, np.uint64(BLOCK_GIVEN_SURNAME), g_pre[g], s_pre[s], zero)
            c = _push(out, i, c, t)
    return c


@numba.njit(**JIT)
def block_tokens(
    k0: np.uint64,
    k1: np.uint64,
    dates: np.ndarray,
    g_off: np.ndarray,
    g_pre: np.ndarray,
    s_off: np.ndarray,
    s_pre: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """Keyed blocking values per record into ``out[n, MAX_BLOCK_TOKENS]``; returns counts.

    Blocks: the birth date; birth year + each surname-part prefix; birth year + each given-name
    prefix; given-name prefix × surname-part prefix (no date, for a typo in the year).
    """
    n = dates.shape[0]
    counts = np.zeros(n, np.int64)
    for i in range(n):
        counts[i] = _block_row(
            k0, k1, i, dates[i], g_off[i], g_off[i + 1], g_pre, s_off[i], s_off[i + 1], s_pre, out
        )
    return counts


@numba.njit(**JIT_PARALLEL)
def block_tokens_parallel(
    k0: np.uint64,
    k1: np.uint64,
    dates: np.ndarray,
    g_off: np.ndarray,
    g_pre: np.ndarray,
    s_off: np.ndarray,
    s_pre: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """`block_tokens` over records in parallel (for large chunks)."""
    n = dates.shape[0]
    counts = np.zeros(n, np.int64)
    for i in prange(n):
        counts[i] = _block_row(
            k0, k1, i, dates[i], g_off[i], g_off[i + 1], g_pre, s_off[i], s_off[i + 1], s_pre, out
        )
    return counts
