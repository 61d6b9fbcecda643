"""Name q-gram kernel: padded q-grams of UTF-8 names, packed three code points a word.

Plain-Python twin: ``grams_reference``.
"""

from __future__ import annotations

import numba
import numpy as np

from matcher._numba_config import JIT


@numba.njit(**JIT)
def _decode(data: np.ndarray, start: int, end: int, cps: np.ndarray) -> int:
    """Decode valid UTF-8 ``data[start:end]`` into ``cps[1:]``; return the number of code points."""
    p = start
    n = 0
    while p < end:
        b = np.int64(data[p])
        if b < 0x80:
            cp = b
            p += 1
        elif b < 0xE0:
            cp = ((b & 0x1F) << 6) | (np.int64(data[p + 1]) & 0x3F)
            p += 2
        elif b < 0xF0:
            cp = ((b & 0x0F) << 12) | ((np.int64(data[p + 1]) & 0x3F) << 6)
            cp |= np.int64(data[p + 2]) & 0x3F
            p += 3
        else:
            cp = ((b & 0x07) << 18) | ((np.int64(data[p + 1]) & 0x3F) << 12)
            cp |= ((np.int64(data[p + 2]) & 0x3F) << 6) | (np.int64(data[p + 3]) & 0x3F)
            p += 4
        n += 1
        cps[n] = cp
    return n


@numba.njit(**JIT)
def name_grams(data: np.ndarray, offsets: np.ndarray, q: int, pad: int):  # type: ignore[no-untyped-def]
    """Padded q-grams of each UTF-8 string, packed 3 code points (``cp + 1``, 21 bits) a word.

    Returns ``(gram_off, w0, w1)``: string ``i`` has grams ``gram_off[i]:gram_off[i + 1]``.
    A string of ``m`` code points has ``max(m + 3 - q, 1)`` grams (``pad`` on both ends).
    """
    n = offsets.shape[0] - 1
    gram_off = np.zeros(n + 1, np.int64)
    cps = np.empty(offsets[-1] - offsets[0] + 2 if n else 2, np.int64)
    total = 0
    for i in range(n):
        m = _decode(data, offsets[i], offsets[i + 1], cps)
        total += max(m + 3 - q, 1)
        gram_off[i + 1] = total
    w0 = np.zeros(total, np.uint64)
    w1 = np.zeros(total, np.uint64)
    for i in range(n):
        m = _decode(data, offsets[i], offsets[i + 1], cps)
        cps[0] = pad
        cps[m + 1] = pad
        width = m + 2
        g = gram_off[i]
        for s in range(max(width - q + 1, 1)):
            a = np.uint64(0)
            b = np.uint64(0)
            for j in range(min(q, width - s)):
                v = np.uint64(cps[s + j] + 1) << np.uint64(21 * (j % 3))
                if j < 3:
                    a |= v
                else:
                    b |= v
            w0[g] = a
            w1[g] = b
            g += 1
    return gram_off, w0, w1
