"""Plain-Python twin of ``grams``: same name, signature and contract, no Numba."""

from __future__ import annotations

import numpy as np


def name_grams(
    data: np.ndarray, offsets: np.ndarray, q: int, pad: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded q-grams of each UTF-8 string, packed 3 code points (``cp + 1``, 21 bits) a word."""
    gram_off = [0]
    w0: list[int] = []
    w1: list[int] = []
    for i in range(len(offsets) - 1):
        text = bytes(data[offsets[i] : offsets[i + 1]]).decode("utf-8")
        cps = [pad, *(ord(c) for c in text), pad]
        starts = range(max(len(cps) - q + 1, 1))
        for s in starts:
            words = [0, 0]
            for j, cp in enumerate(cps[s : s + q]):
                words[j // 3] |= (cp + 1) << (21 * (j % 3))
            w0.append(words[0])
            w1.append(words[1])
        gram_off.append(len(w0))
    return (
        np.array(gram_off, dtype=np.int64),
        np.array(w0, dtype=np.uint64),
        np.array(w1, dtype=np.uint64),
    )
