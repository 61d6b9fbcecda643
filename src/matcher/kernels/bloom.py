"""Bloom-filter kernels: gram bit positions and masks, the filter of each record, diffusion.

Rows of the default 1024 bits go through the SIMD row type of ``simd``; other lengths word by
word. Plain-Python twin: ``bloom_reference``.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from matcher._numba_config import JIT, JIT_PARALLEL
from matcher.kernels.simd import (
    _WIDE,
    _row_load,
    _row_or,
    _row_rotate,
    _row_store,
    _row_xor,
    _row_zero,
)
from matcher.kernels.siphash import sip4

_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


@numba.njit(**JIT)
def gram_positions(
    k0: np.uint64, k1: np.uint64, salt: np.uint64, w0: np.uint64, w1: np.uint64, k: int, bits: int
) -> np.ndarray:
    """The ``k`` bit positions of one (salt, q-gram): 32-bit halves of ``sip4(salt, w0, w1, j)``."""
    out = np.empty(k, np.int64)
    j = 0
    counter = np.uint64(0)
    while j < k:
        h = sip4(k0, k1, salt, w0, w1, counter)
        out[j] = np.int64(h & _MASK32) % bits
        j += 1
        if j < k:
            out[j] = np.int64(h >> _S32) % bits
            j += 1
        counter += np.uint64(1)
    return out


@numba.njit(inline="always", **JIT)
def _diffuse_row(src: np.ndarray, taps: np.ndarray, dst: np.ndarray) -> None:
    """``dst`` bit ``j`` = XOR over ``s`` in ``taps`` of ``src`` bit ``(j + s) mod length``."""
    words = src.shape[0]
    for w in range(words):
        dst[w] = np.uint64(0)
    for t in range(taps.shape[0]):
        s = taps[t]
        lo_i = (s >> 6) % words
        r = np.uint64(s & 63)
        if r == np.uint64(0):
            for w in range(words):
                dst[w] ^= src[lo_i]
                lo_i = lo_i + 1 if lo_i + 1 < words else 0
        else:
            back = np.uint64(64) - r
            for w in range(words):
                hi_i = lo_i + 1 if lo_i + 1 < words else 0
                dst[w] ^= (src[lo_i] >> r) | (src[hi_i] << back)
                lo_i = hi_i


@numba.njit(**JIT)
def diffuse(bits_in: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    """Diffusion layer: output bit ``j`` = XOR over ``s`` in ``offsets`` of input bit ``j + s``.

    Indices are taken modulo the encoding length; rows are packed ``uint64`` (LSB first), and
    C-contiguous.
    """
    if bits_in.shape[1] == _WIDE:
        for i in range(bits_in.shape[0]):
            row = _row_load(bits_in, i)
            mixed = _row_zero()
            for t in range(offsets.shape[0]):
                mixed = _row_xor(mixed, _row_rotate(row, offsets[t]))
            _row_store(out, i, mixed)
    else:
        for i in range(bits_in.shape[0]):
            _diffuse_row(bits_in[i], offsets, out[i])


@numba.njit(**JIT)
def gram_masks(
    field_keys: np.ndarray,
    field_k: np.ndarray,
    gram_field: np.ndarray,
    gram_w0: np.ndarray,
    gram_w1: np.ndarray,
    salts: np.ndarray,
    words: int,
) -> np.ndarray:
    """The bits each (salt, gram) sets, as packed masks ``uint64[n_salts, n_grams, words]``.

    Gram ``g`` belongs to field ``gram_field[g]``, whose key is ``field_keys[field] = (k0, k1)``
    and which sets ``field_k[field]`` positions (`gram_positions`) in ``words * 64`` bits.
    """
    n_salts = salts.shape[0]
    n_grams = gram_w0.shape[0]
    out = np.zeros((n_salts, n_grams, words), np.uint64)
    one = np.uint64(1)
    for si in range(n_salts):
        for g in range(n_grams):
            f = gram_field[g]
            pos = gram_positions(
                field_keys[f, 0], field_keys[f, 1], salts[si], gram_w0[g], gram_w1[g],
                field_k[f], words * 64,
            )  # fmt: skip
            for j in range(field_k[f]):
                out[si, g, pos[j] >> 6] |= one << np.uint64(pos[j] & 63)
    return out


@numba.njit(inline="always", **JIT)
def _bloom_row(masks, si, p0, p1, rec_item, item_off, item_gram, taps, row, dst):  # type: ignore[no-untyped-def]
    """One record's filter: OR the masks of its items' grams, then diffuse into ``dst``."""
    words = row.shape[0]
    for w in range(words):
        row[w] = np.uint64(0)
    for p in range(p0, p1):
        t = rec_item[p]
        for q in range(item_off[t], item_off[t + 1]):
            g = item_gram[q]
            for w in range(words):
                row[w] |= masks[si, g, w]
    if taps.shape[0]:
        _diffuse_row(row, taps, dst)
    else:
        for w in range(words):
            dst[w] = row[w]


@numba.njit(**JIT)
def _bloom_rows(masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out, lo, hi):  # type: ignore[no-untyped-def]
    """Records ``lo:hi`` of `bloom_bits`; 1024-bit rows as `_Row` values, others word by word.

    Compiled once for both drivers. The record loop is inside (not around an inlined per-record
    call) so that no array is reference-counted per record; indices into the CSR arrays are
    unsigned so that the hot loop has no negative-index wrap-around.
    """
    one = np.uint64(1)
    if out.shape[1] == _WIDE:
        for i in range(lo, hi):
            si = rec_salt[i]
            row = _row_zero()
            for p in range(np.uint64(rec_off[i]), np.uint64(rec_off[i + 1])):
                t = np.uint64(rec_item[p])
                for q in range(np.uint64(item_off[t]), np.uint64(item_off[t + one])):
                    row = _row_or(row, _row_load(masks, (si, item_gram[q])))
            if taps.shape[0]:
                mixed = _row_zero()
                for k in range(taps.shape[0]):
                    mixed = _row_xor(mixed, _row_rotate(row, taps[k]))
                row = mixed
            _row_store(out, i, row)
    else:
        scratch = np.zeros(out.shape[1], np.uint64)
        for i in range(lo, hi):
            _bloom_row(
                masks, rec_salt[i], rec_off[i], rec_off[i + 1], rec_item, item_off, item_gram,
                taps, scratch, out[i],
            )  # fmt: skip


@numba.njit(**JIT)
def bloom_bits(
    masks: np.ndarray,
    rec_salt: np.ndarray,
    rec_off: np.ndarray,
    rec_item: np.ndarray,
    item_off: np.ndarray,
    item_gram: np.ndarray,
    taps: np.ndarray,
    out: np.ndarray,
) -> None:
    """Each record's Bloom filter of salted q-grams, diffused, into ``out[n, bits // 64]``.

    Record ``i`` holds items ``rec_item[rec_off[i]:rec_off[i + 1]]`` (names, dates); item ``t``
    holds grams ``item_gram[item_off[t]:item_off[t + 1]]``; gram ``g`` under the record's salt
    ``rec_salt[i]`` sets the bits of ``masks[salt, g]`` (`gram_masks`). The filter then goes
    through the diffusion layer with rotation ``taps`` (none: stored as is). Rows are packed
    ``uint64``, bit ``j`` in word ``j >> 6`` at ``j & 63``; ``masks`` and ``out`` C-contiguous.
    """
    _bloom_rows(masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out, 0, out.shape[0])


#: Records per task of `bloom_bits_parallel`.
BLOOM_TASK_ROWS = 4096


@numba.njit(**JIT_PARALLEL)
def bloom_bits_parallel(
    masks: np.ndarray,
    rec_salt: np.ndarray,
    rec_off: np.ndarray,
    rec_item: np.ndarray,
    item_off: np.ndarray,
    item_gram: np.ndarray,
    taps: np.ndarray,
    out: np.ndarray,
) -> None:
    """`bloom_bits` over runs of records in parallel (for large chunks)."""
    n = out.shape[0]
    tasks = (n + BLOOM_TASK_ROWS - 1) // BLOOM_TASK_ROWS
    for task in prange(tasks):
        lo = task * BLOOM_TASK_ROWS
        _bloom_rows(
            masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out,
            lo, min(n, lo + BLOOM_TASK_ROWS),
        )  # fmt: skip
