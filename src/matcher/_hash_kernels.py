"""Numba kernels of the steward-side hashing: SipHash-2-4, match keys, Bloom bits, diffusion.

Pure functions over NumPy arrays and scalars: no objects, exceptions, logging or I/O. The callers
in ``tokens`` and ``encodings`` validate and shape the inputs. Every kernel has a plain-Python twin
with the same name and contract in ``_hash_reference``; ``tests/test_hash_kernels.py`` compares
them with hypothesis.

SipHash-2-4 (Aumasson & Bernstein 2012) is a PRF with a 128-bit key and 64-bit output. Here it is
always applied to exactly four little-endian 64-bit words (a 32-byte message), so ``sip4(k0, k1,
a, b, c, d)`` equals standard SipHash-2-4 of ``struct.pack("<4Q", a, b, c, d)`` under the key
``struct.pack("<2Q", k0, k1)``.
"""

from __future__ import annotations

import numba
import numpy as np

from matcher._numba_config import JIT

_C0 = np.uint64(0x736F6D6570736575)
_C1 = np.uint64(0x646F72616E646F6D)
_C2 = np.uint64(0x6C7967656E657261)
_C3 = np.uint64(0x7465646279746573)
_LEN32 = np.uint64(32 << 56)
_FF = np.uint64(0xFF)
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)

#: Token and block kinds: the first SipHash word, so each kind has its own domain.
ID_TAG = 1
NAME_FULL, NAME_PART, NAME_GIVEN_INITIAL, NAME_SURNAME_INITIAL = 1, 2, 3, 4
NAME_NO_DAY, NAME_NO_YEAR, NAME_NO_MONTH = 5, 6, 7
BLOCK_DATE, BLOCK_YEAR_SURNAME, BLOCK_YEAR_GIVEN, BLOCK_GIVEN_SURNAME = 1, 2, 3, 4
#: At most this many name tokens and block tokens per record.
MAX_NAME_TOKENS = 24
MAX_BLOCK_TOKENS = 12
#: Partial-date match keys use at most this many given names.
PARTIAL_DATE_GIVEN = 2
#: The given-name × surname-prefix block uses at most this many of each.
BLOCK_PAIR_NAMES = 2


@numba.njit(inline="always", **JIT)
def _rotl(x: np.uint64, b: int) -> np.uint64:
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


@numba.njit(inline="always", **JIT)
def _rounds(v0, v1, v2, v3, n):  # type: ignore[no-untyped-def]
    for _ in range(n):
        v0 += v1
        v1 = _rotl(v1, 13)
        v1 ^= v0
        v0 = _rotl(v0, 32)
        v2 += v3
        v3 = _rotl(v3, 16)
        v3 ^= v2
        v0 += v3
        v3 = _rotl(v3, 21)
        v3 ^= v0
        v2 += v1
        v1 = _rotl(v1, 17)
        v1 ^= v2
        v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


@numba.njit(inline="always", **JIT)
def sip4(k0: np.uint64, k1: np.uint64, a: np.uint64, b: np.uint64, c: np.uint64, d: np.uint64):  # type: ignore[no-untyped-def]
    """SipHash-2-4 of the four words ``a, b, c, d`` (32 bytes, little-endian) under ``(k0, k1)``."""
    v0 = k0 ^ _C0
    v1 = k1 ^ _C1
    v2 = k0 ^ _C2
    v3 = k1 ^ _C3
    v3 ^= a
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= a
    v3 ^= b
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= b
    v3 ^= c
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= c
    v3 ^= d
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= d
    v3 ^= _LEN32
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= _LEN32
    v2 ^= _FF
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


@numba.njit(**JIT)
def sip4_many(k0: np.uint64, k1: np.uint64, words: np.ndarray) -> np.ndarray:
    """``sip4`` of each row of a ``uint64[n, 4]`` array."""
    n = words.shape[0]
    out = np.empty(n, np.uint64)
    for i in range(n):
        out[i] = sip4(k0, k1, words[i, 0], words[i, 1], words[i, 2], words[i, 3])
    return out


@numba.njit(**JIT)
def id_tokens(k0: np.uint64, k1: np.uint64, numbers: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Identity-number tokens: ``sip4(ID_TAG, kind, number, 0)``; 0 where ``kinds`` is 0."""
    n = numbers.shape[0]
    out = np.zeros(n, np.uint64)
    tag = np.uint64(ID_TAG)
    zero = np.uint64(0)
    for i in range(n):
        if kinds[i] != 0:
            out[i] = sip4(k0, k1, tag, np.uint64(kinds[i]), numbers[i], zero)
    return out


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


@numba.njit(**JIT)
def name_tokens(
    k0: np.uint64,
    k1: np.uint64,
    dates: np.ndarray,
    g_off: np.ndarray,
    g_word: np.ndarray,
    g_init: np.ndarray,
    s_off: np.ndarray,
    s_word: np.ndarray,
    full_word: np.ndarray,
    full_init: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """Name + birth-date match keys per record into ``out[n, MAX_NAME_TOKENS]``; returns counts.

    ``dates[i]`` is ``(year << 16) | (month << 8) | day`` or 0 when unknown (then no keys).
    ``g_*``/``s_*`` are flat per-name words with CSR offsets (given names, surname parts);
    ``full_word[i]`` is the whole surname's word, 0 when the record has no surname.
    """
    n = dates.shape[0]
    counts = np.zeros(n, np.int64)
    zero = np.uint64(0)
    ymask = np.uint64(0xFFFF) << np.uint64(16)
    mmask = np.uint64(0xFF) << np.uint64(8)
    dmask = np.uint64(0xFF)
    for i in range(n):
        d = dates[i]
        full = full_word[i]
        if d == zero or full == zero:
            continue
        c = 0
        g0, g1 = g_off[i], g_off[i + 1]
        s0, s1 = s_off[i], s_off[i + 1]
        for g in range(g0, g1):
            c = _push(out, i, c, sip4(k0, k1, np.uint64(NAME_FULL), d, g_word[g], full))
        if s1 - s0 > 1:
            for g in range(g0, g1):
                for s in range(s0, s1):
                    t = sip4(k0, k1, np.uint64(NAME_PART), d, g_word[g], s_word[s])
                    c = _push(out, i, c, t)
        for g in range(g0, g1):
            t = sip4(k0, k1, np.uint64(NAME_GIVEN_INITIAL), d, g_init[g], full)
            c = _push(out, i, c, t)
        for g in range(g0, g1):
            t = sip4(k0, k1, np.uint64(NAME_SURNAME_INITIAL), d, g_word[g], full_init[i])
            c = _push(out, i, c, t)
        for g in range(g0, min(g1, g0 + PARTIAL_DATE_GIVEN)):
            w = g_word[g]
            t = sip4(k0, k1, np.uint64(NAME_NO_DAY), d & (ymask | mmask), w, full)
            c = _push(out, i, c, t)
            t = sip4(k0, k1, np.uint64(NAME_NO_YEAR), d & (mmask | dmask), w, full)
            c = _push(out, i, c, t)
            t = sip4(k0, k1, np.uint64(NAME_NO_MONTH), d & (ymask | dmask), w, full)
            c = _push(out, i, c, t)
        counts[i] = c
    return counts


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
    zero = np.uint64(0)
    ymask = np.uint64(0xFFFF) << np.uint64(16)
    for i in range(n):
        d = dates[i]
        y = d & ymask
        c = 0
        g0, g1 = g_off[i], g_off[i + 1]
        s0, s1 = s_off[i], s_off[i + 1]
        if d != zero:
            c = _push(out, i, c, sip4(k0, k1, np.uint64(BLOCK_DATE), d, zero, zero))
            for s in range(s0, s1):
                t = sip4(k0, k1, np.uint64(BLOCK_YEAR_SURNAME), y, s_pre[s], zero)
                c = _push(out, i, c, t)
            for g in range(g0, g1):
                t = sip4(k0, k1, np.uint64(BLOCK_YEAR_GIVEN), y, g_pre[g], zero)
                c = _push(out, i, c, t)
        for g in range(g0, min(g1, g0 + BLOCK_PAIR_NAMES)):
            for s in range(s0, min(s1, s0 + BLOCK_PAIR_NAMES)):
                t = sip4(k0, k1, np.uint64(BLOCK_GIVEN_SURNAME), g_pre[g], s_pre[s], zero)
                c = _push(out, i, c, t)
        counts[i] = c
    return counts


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


@numba.njit(**JIT)
def bloom_bits(
    field_keys: np.ndarray,
    field_k: np.ndarray,
    gram_field: np.ndarray,
    gram_w0: np.ndarray,
    gram_w1: np.ndarray,
    salts: np.ndarray,
    rec_salt: np.ndarray,
    rec_off: np.ndarray,
    rec_item: np.ndarray,
    item_off: np.ndarray,
    item_gram: np.ndarray,
    cache: np.ndarray,
    filled: np.ndarray,
    out: np.ndarray,
) -> None:
    """OR each record's salted q-gram positions into ``out[n, bits // 64]`` (packed, LSB first).

    Record ``i`` holds items ``rec_item[rec_off[i]:rec_off[i + 1]]`` (names or dates); item ``t``
    holds grams ``item_gram[item_off[t]:item_off[t + 1]]`` (indices into the vocabulary
    ``gram_*``). The record's salt is ``salts[rec_salt[i]]``. Positions of a (salt, gram) pair are
    computed once into ``cache[salt, gram, :k]`` (``filled`` marks done pairs) under the gram's
    field key ``field_keys[field] = (k0, k1)`` with ``field_k[field]`` positions.
    """
    n, words = out.shape
    bits = words * 64
    for i in range(n):
        si = rec_salt[i]
        salt = salts[si]
        for p in range(rec_off[i], rec_off[i + 1]):
            t = rec_item[p]
            for q in range(item_off[t], item_off[t + 1]):
                g = item_gram[q]
                f = gram_field[g]
                k = field_k[f]
                if not filled[si, g]:
                    pos = gram_positions(
                        field_keys[f, 0], field_keys[f, 1], salt, gram_w0[g], gram_w1[g], k, bits
                    )
                    for j in range(k):
                        cache[si, g, j] = pos[j]
                    filled[si, g] = True
                for j in range(k):
                    b = cache[si, g, j]
                    out[i, b >> 6] |= np.uint64(1) << np.uint64(b & 63)


@numba.njit(**JIT)
def diffuse(bits_in: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    """Diffusion layer: output bit ``j`` = XOR over ``s`` in ``offsets`` of input bit ``j + s``.

    Indices are taken modulo the encoding length; rows are packed ``uint64`` (LSB first).
    """
    n, words = bits_in.shape
    for i in range(n):
        for w in range(words):
            out[i, w] = np.uint64(0)
        for t in range(offsets.shape[0]):
            s = offsets[t]
            q = s >> 6
            r = s & 63
            for w in range(words):
                lo = bits_in[i, (w + q) % words]
                if r == 0:
                    out[i, w] ^= lo
                else:
                    hi = bits_in[i, (w + q + 1) % words]
                    out[i, w] ^= (lo >> np.uint64(r)) | (hi << np.uint64(64 - r))
