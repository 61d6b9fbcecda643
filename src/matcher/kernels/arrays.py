"""Small array kernels used around the hashing: compacting padded rows, capping CSR rows.

Plain-Python twin: ``arrays_reference``.
"""

from __future__ import annotations

import numba
import numpy as np

from matcher._numba_config import JIT


@numba.njit(**JIT)
def compact_rows(matrix: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The first ``counts[i]`` entries of each row of ``matrix``, concatenated row by row."""
    total = 0
    for i in range(counts.shape[0]):
        total += counts[i]
    out = np.empty(total, matrix.dtype)
    p = 0
    for i in range(counts.shape[0]):
        for j in range(counts[i]):
            out[p] = matrix[i, j]
            p += 1
    return out


@numba.njit(**JIT)
def dedupe_cap(offsets: np.ndarray, idx: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Per CSR row: its first ``cap`` distinct indices ``>= 0``, in order; new CSR arrays."""
    n = offsets.shape[0] - 1
    out_off = np.zeros(n + 1, np.int64)
    out_idx = np.empty(min(idx.shape[0], n * cap), np.int64)
    p = 0
    for i in range(n):
        start = p
        for j in range(offsets[i], offsets[i + 1]):
            v = idx[j]
            if v < 0 or p - start >= cap:
                continue
            seen = False
            for q in range(start, p):
                if out_idx[q] == v:
                    seen = True
                    break
            if not seen:
                out_idx[p] = v
                p += 1
        out_off[i + 1] = p
    return out_off, out_idx[:p].copy()
