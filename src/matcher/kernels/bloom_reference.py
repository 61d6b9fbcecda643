"""Plain-Python twins of ``bloom``: same names, signatures and contracts, no Numba."""

from __future__ import annotations

import numpy as np

from matcher.kernels.siphash_reference import sip4


def gram_positions(k0: int, k1: int, salt: int, w0: int, w1: int, k: int, bits: int) -> np.ndarray:
    """The ``k`` bit positions of one (salt, q-gram): 32-bit halves of ``sip4(salt, w0, w1, j)``."""
    out: list[int] = []
    counter = 0
    while len(out) < k:
        h = sip4(k0, k1, salt, w0, w1, counter)
        out.append((h & 0xFFFFFFFF) % bits)
        if len(out) < k:
            out.append((h >> 32) % bits)
        counter += 1
    return np.array(out, dtype=np.int64)


def gram_masks(
    field_keys: np.ndarray,
    field_k: np.ndarray,
    gram_field: np.ndarray,
    gram_w0: np.ndarray,
    gram_w1: np.ndarray,
    salts: np.ndarray,
    words: int,
) -> np.ndarray:
    """The bits each (salt, gram) sets, as packed masks ``uint64[n_salts, n_grams, words]``."""
    out = np.zeros((len(salts), len(gram_w0), words), np.uint64)
    for si, salt in enumerate(salts):
        for g in range(len(gram_w0)):
            f = int(gram_field[g])
            k0, k1 = (int(x) for x in field_keys[f])
            w0, w1, k = int(gram_w0[g]), int(gram_w1[g]), int(field_k[f])
            for b in gram_positions(k0, k1, int(salt), w0, w1, k, words * 64):
                out[si, g, int(b) // 64] |= np.uint64(1 << (int(b) % 64))
    return out


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
    """Each record's Bloom filter of salted q-grams, diffused, into ``out[n, bits // 64]``."""
    raw = np.zeros_like(out)
    for i in range(out.shape[0]):
        for t in rec_item[rec_off[i] : rec_off[i + 1]]:
            for g in item_gram[item_off[t] : item_off[t + 1]]:
                raw[i] |= masks[rec_salt[i], g]
    if len(taps):
        diffuse(raw, taps, out)
    else:
        out[:] = raw


def diffuse(bits_in: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    """Diffusion layer: output bit ``j`` = XOR over ``s`` in ``offsets`` of input bit ``j + s``."""
    n, words = bits_in.shape
    length = words * 64
    for i in range(n):
        src = [(int(bits_in[i, j // 64]) >> (j % 64)) & 1 for j in range(length)]
        row = [0] * words
        for j in range(length):
            bit = 0
            for s in offsets:
                bit ^= src[(j + int(s)) % length]
            row[j // 64] |= bit << (j % 64)
        out[i, :] = np.array(row, dtype=np.uint64)


#: The parallel driver has the same contract as the sequential one.
bloom_bits_parallel = bloom_bits
