"""Plain-Python twins of ``arrays``: same names, signatures and contracts, no Numba."""

from __future__ import annotations

import numpy as np


def compact_rows(matrix: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The first ``counts[i]`` entries of each row of ``matrix``, concatenated row by row."""
    parts = [matrix[i, : int(c)] for i, c in enumerate(counts)]
    return np.concatenate(parts) if parts else np.zeros(0, matrix.dtype)


def dedupe_cap(offsets: np.ndarray, idx: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Per CSR row: its first ``cap`` distinct indices ``>= 0``, in order; new CSR arrays."""
    rows: list[list[int]] = []
    for i in range(len(offsets) - 1):
        kept: list[int] = []
        for v in idx[offsets[i] : offsets[i + 1]]:
            if v >= 0 and int(v) not in kept and len(kept) < cap:
                kept.append(int(v))
        rows.append(kept)
    out_off = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(r) for r in rows], out=out_off[1:])
    return out_off, np.array([v for r in rows for v in r], dtype=np.int64)
