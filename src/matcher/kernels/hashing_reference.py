"""Plain-Python twins of ``_hash_kernels``: same names, signatures and contracts, no Numba.

Written for reading, not speed; ``tests/test_hash_kernels.py`` checks the kernels against them,
and ``siphash24`` (general byte messages) against the published SipHash-2-4 test vectors.
"""

from __future__ import annotations

import struct
from datetime import date

import numpy as np

from matcher.kernels.hashing import (
    BLOCK_DATE,
    BLOCK_GIVEN_SURNAME,
    BLOCK_PAIR_NAMES,
    BLOCK_YEAR_GIVEN,
    BLOCK_YEAR_SURNAME,
    NAME_FULL,
)

_M64 = (1 << 64) - 1


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _M64


def _sipround(v: list[int]) -> None:
    v0, v1, v2, v3 = v
    v0 = (v0 + v1) & _M64
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & _M64
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & _M64
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & _M64
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    v[:] = [v0, v1, v2, v3]


def siphash24(key: bytes, message: bytes) -> int:
    """Standard SipHash-2-4 of a byte string under a 16-byte key, as an unsigned 64-bit int."""
    k0, k1 = struct.unpack("<2Q", key)
    v = [
        k0 ^ 0x736F6D6570736575,
        k1 ^ 0x646F72616E646F6D,
        k0 ^ 0x6C7967656E657261,
        k1 ^ 0x7465646279746573,
    ]
    full = len(message) // 8 * 8
    for off in range(0, full, 8):
        (m,) = struct.unpack_from("<Q", message, off)
        v[3] ^= m
        _sipround(v)
        _sipround(v)
        v[0] ^= m
    tail = message[full:] + bytes(7 - (len(message) - full))
    last = ((len(message) & 0xFF) << 56) | int.from_bytes(tail, "little")
    v[3] ^= last
    _sipround(v)
    _sipround(v)
    v[0] ^= last
    v[2] ^= 0xFF
    for _ in range(4):
        _sipround(v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def sip4(k0: int, k1: int, a: int, b: int, c: int, d: int) -> int:
    """SipHash-2-4 of the four words ``a, b, c, d`` (32 bytes, little-endian) under ``(k0, k1)``."""
    words = [int(x) & _M64 for x in (a, b, c, d)]
    return siphash24(struct.pack("<2Q", int(k0), int(k1)), struct.pack("<4Q", *words))


def sip4_many(k0: int, k1: int, words: np.ndarray) -> np.ndarray:
    """``sip4`` of each row of a ``uint64[n, 4]`` array."""
    return np.array([sip4(k0, k1, *(int(x) for x in row)) for row in words], dtype=np.uint64)


def sip_bytes(k0: int, k1: int, data: np.ndarray, start: int, end: int) -> int:
    """Standard SipHash-2-4 of the bytes ``data[start:end]`` under ``(k0, k1)``."""
    return siphash24(struct.pack("<2Q", int(k0), int(k1)), bytes(data[start:end]))


def hash_strings(k0: int, k1: int, data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``sip_bytes`` of each string ``data[offsets[i]:offsets[i + 1]]``; 0 is replaced by 1."""
    out = [sip_bytes(k0, k1, data, offsets[i], offsets[i + 1]) for i in range(len(offsets) - 1)]
    return np.array([h or 1 for h in out], dtype=np.uint64)


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


#: The parallel drivers have the same contract as the sequential ones.
block_tokens_parallel = block_tokens
bloom_bits_parallel = bloom_bits
