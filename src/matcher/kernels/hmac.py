"""Numba kernels for HMAC-SHA256 (RFC 2104, FIPS 198-1; SHA-256 of FIPS 180-4) cut to 64 bits.

The exact match keys are HMAC-SHA256 under a round key; a Python ``hmac`` call per token is far
too slow for millions of tokens, and the CPUs we target may lack SHA instructions. So:

* `hmac_states` absorbs the key ⊕ ipad and key ⊕ opad blocks once per key, leaving two SHA-256
  chaining states; each HMAC of a message of at most 55 bytes then costs two compressions.
* `hmac_words` hashes ``_LANES`` messages at once ("multi-buffer"): chaining values and message
  schedules are laid out ``[word, lane]`` and every step loops over lanes, so LLVM turns each step
  into 32-bit SIMD instructions over all lanes (AVX2 / AVX-512).
* `hmac_strings` handles variable-length byte strings (distinct names), one message at a time.

The result is the first 8 digest bytes read as a little-endian ``uint64``, i.e.
``int.from_bytes(hmac.new(key, msg, "sha256").digest()[:8], "little")``. Numba widens ``uint32``
arithmetic to 64 bits, which keeps LLVM from using 32-bit SIMD lanes, so the additions and
rotations are two tiny intrinsics emitting ``i32`` ``add`` and ``fshr`` (plain-Python twins when
``NUMBA_DISABLE_JIT=1``, where NumPy scalars would warn on the wrap-around). The compression
is inlined into the batch loop (faster than a call: ``docs/decisions/0002``). Constants are derived
from their definition in FIPS 180-4 §4.2.2 and §5.3.3 (roots of the first primes), not typed
in. Pure functions over NumPy arrays: no objects, exceptions or I/O; callers validate shapes.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange, types
from numba.extending import intrinsic

from matcher._numba_config import JIT, JIT_PARALLEL

#: Messages hashed side by side in `hmac_words` (two 256-bit vectors of 32-bit words;
#: 8 did not vectorise, 32 was slower).
_LANES = 16
#: Batches of `_LANES` messages per parallel work item (scratch arrays allocated once per item).
_BATCHES_PER_TASK = 64
_BLOCK = 64
_M32 = np.uint64(0xFFFFFFFF)


def _first_primes(count: int) -> list[int]:
    """The first ``count`` prime numbers."""
    primes: list[int] = []
    p = 2
    while len(primes) < count:
        if all(p % q for q in primes):
            primes.append(p)
        p += 1
    return primes


def _iroot(x: int, k: int) -> int:
    """The integer ``k``-th root of ``x`` (largest ``r`` with ``r**k <= x``)."""
    lo, hi = 0, 1 << (x.bit_length() // k + 1)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid**k <= x:
            lo = mid
        else:
            hi = mid - 1
    return lo


#: Round constants: first 32 fractional bits of the cube roots of the first 64 primes.
_K = np.array([_iroot(p << 96, 3) & 0xFFFFFFFF for p in _first_primes(64)], dtype=np.uint32)
#: Initial hash value: first 32 fractional bits of the square roots of the first 8 primes.
_H0 = np.array([_iroot(p << 64, 2) & 0xFFFFFFFF for p in _first_primes(8)], dtype=np.uint32)


if numba.config.DISABLE_JIT:  # pragma: no cover - coverage runs of the kernel bodies

    def _add(a: int | np.uint32, b: int | np.uint32) -> np.uint32:
        """``a + b`` modulo 2**32 (pure-Python path: NumPy scalars would warn on the wrap)."""
        return np.uint32((int(a) + int(b)) & 0xFFFFFFFF)

    def _rotr(x: int, n: int) -> np.uint32:
        """Rotate the 32-bit ``x`` right by ``n`` bits (0 < n < 32)."""
        x = int(x)
        return np.uint32(((x >> n) | (x << (32 - n))) & 0xFFFFFFFF)

else:

    @intrinsic
    def _add(typingctx, a, b):  # type: ignore[no-untyped-def]
        """``a + b`` modulo 2**32 as one LLVM ``i32`` add (Numba would widen to 64 bits)."""
        sig = types.uint32(types.uint32, types.uint32)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            return builder.add(args[0], args[1])

        return sig, codegen

    @intrinsic
    def _rotr(typingctx, x, n):  # type: ignore[no-untyped-def]
        """Rotate the 32-bit ``x`` right by ``n`` bits (0 < n < 32): ``vprord`` in SIMD code."""
        sig = types.uint32(types.uint32, types.uint32)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            x, n = args
            back = builder.sub(context.get_constant(types.uint32, 32), n)
            return builder.or_(builder.lshr(x, n), builder.shl(x, back))

        return sig, codegen


@numba.njit(**JIT)
def _bswap(x: np.uint64) -> np.uint64:
    """Reverse the byte order of the 32-bit value ``x``."""
    return (
        ((x & np.uint64(0xFF)) << np.uint64(24))
        | ((x & np.uint64(0xFF00)) << np.uint64(8))
        | ((x >> np.uint64(8)) & np.uint64(0xFF00))
        | (x >> np.uint64(24))
    )


@numba.njit(**JIT)
def _round(a, b, c, d, e, f, g, h, kw):  # type: ignore[no-untyped-def]
    """One SHA-256 round on ``uint32`` values; returns the new ``(e, a)`` (the places of d, h)."""
    s1 = np.uint32(_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25))
    ch = np.uint32(g ^ (e & (f ^ g)))
    t1 = _add(_add(h, s1), _add(ch, kw))
    s0 = np.uint32(_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22))
    maj = np.uint32((a & b) | (c & (a | b)))
    return _add(d, t1), _add(t1, _add(s0, maj))


@numba.njit(inline="always", **JIT)
def _compress(state: np.ndarray, w: np.ndarray, v: np.ndarray, lanes: int) -> None:
    """SHA-256 compression of ``lanes`` blocks at once: ``state[8, L]`` absorbs ``w[0:16, L]``.

    ``w`` (``uint32[64, L]``) is extended in place to the full message schedule; ``v``
    (``uint32[8, L]``) is the working variables. Every step is a loop over lanes.
    """
    for t in range(16, 64):
        for ln in range(lanes):
            x = w[t - 2, ln]
            y = w[t - 15, ln]
            s1 = np.uint32(_rotr(x, 17) ^ _rotr(x, 19) ^ (x >> np.uint32(10)))
            s0 = np.uint32(_rotr(y, 7) ^ _rotr(y, 18) ^ (y >> np.uint32(3)))
            w[t, ln] = _add(_add(s1, w[t - 7, ln]), _add(s0, w[t - 16, ln]))
    for k in range(8):
        for ln in range(lanes):
            v[k, ln] = state[k, ln]
    for r in range(0, 64, 8):
        k0 = _K[r]
        k1 = _K[r + 1]
        k2 = _K[r + 2]
        k3 = _K[r + 3]
        k4 = _K[r + 4]
        k5 = _K[r + 5]
        k6 = _K[r + 6]
        k7 = _K[r + 7]
        for ln in range(lanes):
            a = v[0, ln]
            b = v[1, ln]
            c = v[2, ln]
            d = v[3, ln]
            e = v[4, ln]
            f = v[5, ln]
            g = v[6, ln]
            h = v[7, ln]
            d, h = _round(a, b, c, d, e, f, g, h, _add(k0, w[r, ln]))
            c, g = _round(h, a, b, c, d, e, f, g, _add(k1, w[r + 1, ln]))
            b, f = _round(g, h, a, b, c, d, e, f, _add(k2, w[r + 2, ln]))
            a, e = _round(f, g, h, a, b, c, d, e, _add(k3, w[r + 3, ln]))
            h, d = _round(e, f, g, h, a, b, c, d, _add(k4, w[r + 4, ln]))
            g, c = _round(d, e, f, g, h, a, b, c, _add(k5, w[r + 5, ln]))
            f, b = _round(c, d, e, f, g, h, a, b, _add(k6, w[r + 6, ln]))
            e, a = _round(b, c, d, e, f, g, h, a, _add(k7, w[r + 7, ln]))
            v[0, ln] = a
            v[1, ln] = b
            v[2, ln] = c
            v[3, ln] = d
            v[4, ln] = e
            v[5, ln] = f
            v[6, ln] = g
            v[7, ln] = h
    for k in range(8):
        for ln in range(lanes):
            state[k, ln] = _add(state[k, ln], v[k, ln])


@numba.njit(**JIT)
def _compress_one(state: np.ndarray, w: np.ndarray, v: np.ndarray) -> None:
    """`_compress` of one block (``[word, 1]`` arrays), compiled once for the scalar paths."""
    _compress(state, w, v, 1)


@numba.njit(**JIT)
def sha256_block(state: np.ndarray, block: np.ndarray) -> None:
    """Absorb one 64-byte ``block`` (``uint8[64]``) into the chaining value ``state[8]``."""
    s = np.empty((8, 1), np.uint32)
    w = np.empty((64, 1), np.uint32)
    v = np.empty((8, 1), np.uint32)
    for k in range(8):
        s[k, 0] = state[k]
    for j in range(16):
        x = np.uint64(0)
        for i in range(4):
            x = (x << np.uint64(8)) | np.uint64(block[4 * j + i])
        w[j, 0] = x
    _compress_one(s, w, v)
    for k in range(8):
        state[k] = s[k, 0]


@numba.njit(**JIT)
def _padded_byte(
    data: np.ndarray, start: int, length: int, total: int, p: int, bits: int
) -> int | np.int64:
    """Byte ``p`` of the padded message ``data[start:start + length]`` (``total`` bytes padded).

    ``bits`` is the bit length written in the last 8 bytes (it counts any prefix already absorbed).
    """
    if p < length:
        return np.int64(data[start + p])
    if p == length:
        return 0x80
    if p >= total - 8:
        return (bits >> (8 * (total - 1 - p))) & 0xFF
    return 0


@numba.njit(inline="always", **JIT)
def _absorb_padded(state, w, v, data, start, end, prefix):  # type: ignore[no-untyped-def]
    """Absorb ``data[start:end]``, padded, into ``state[8, 1]``; ``prefix`` bytes came before."""
    length = end - start
    total = (length + 9 + _BLOCK - 1) // _BLOCK * _BLOCK
    bits = (prefix + length) * 8
    for base in range(0, total, _BLOCK):
        for j in range(16):
            x = np.uint64(0)
            for i in range(4):
                byte = _padded_byte(data, start, length, total, base + 4 * j + i, bits)
                x = (x << np.uint64(8)) | np.uint64(byte)
            w[j, 0] = x
        _compress_one(state, w, v)


@numba.njit(**JIT)
def sha256_bytes(data: np.ndarray) -> np.ndarray:
    """SHA-256 digest (``uint8[32]``) of the bytes ``data`` (for keys longer than a block)."""
    s = np.empty((8, 1), np.uint32)
    w = np.empty((64, 1), np.uint32)
    v = np.empty((8, 1), np.uint32)
    for k in range(8):
        s[k, 0] = _H0[k]
    _absorb_padded(s, w, v, data, 0, data.shape[0], 0)
    out = np.empty(32, np.uint8)
    for k in range(8):
        x = np.uint64(s[k, 0])
        for i in range(4):
            out[4 * k + i] = (x >> np.uint64(24 - 8 * i)) & np.uint64(0xFF)
    return out


def hmac_states(key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """SHA-256 chaining values (``uint32[8]`` each) after the key ⊕ ipad and key ⊕ opad blocks.

    A key longer than a block (64 bytes) is replaced by its SHA-256 digest first (RFC 2104).
    """
    raw = np.frombuffer(key, dtype=np.uint8)
    if raw.shape[0] > _BLOCK:
        raw = sha256_bytes(raw)
    padded = np.zeros(_BLOCK, dtype=np.uint8)
    padded[: raw.shape[0]] = raw
    states = []
    for pad in (0x36, 0x5C):
        state = _H0.copy()
        sha256_block(state, padded ^ np.uint8(pad))
        states.append(state)
    return states[0], states[1]


@numba.njit(**JIT)
def _truncate(x0: np.uint64, x1: np.uint64) -> np.uint64:
    """The digest words ``x0, x1`` as 8 big-endian bytes read as a little-endian ``uint64``."""
    return _bswap(x0) | (_bswap(x1) << np.uint64(32))


@numba.njit(inline="always", **JIT)
def _words_batch(istate, ostate, words, first, stop, s, w, v, out):  # type: ignore[no-untyped-def]
    """HMAC of rows ``first:first + _LANES`` of ``words`` into ``out``; rows ``>= stop`` skipped.

    Lanes past ``stop`` recompute row ``stop - 1`` (so the SIMD loops never branch) and are
    not stored.
    """
    m = words.shape[1]
    half = 2 * m
    total = (8 * m + 9 + _BLOCK - 1) // _BLOCK * _BLOCK
    bits = np.uint64((_BLOCK + 8 * m) * 8)
    last = stop - 1
    blocks = total // _BLOCK
    for k in range(8):
        for ln in range(_LANES):
            s[k, ln] = istate[k]
    for block in range(blocks + 1):  # the message blocks, then the outer hash's one block
        if block < blocks:
            for j in range(16):
                q = 16 * block + j
                if q < half:
                    col = q >> 1
                    shift = np.uint64(32 * (q & 1))
                    for ln in range(_LANES):
                        row = min(first + ln, last)
                        w[j, ln] = _bswap((np.uint64(words[row, col]) >> shift) & _M32)
                else:
                    if q == half:
                        x = np.uint64(0x80000000)
                    elif q == total // 4 - 1:
                        x = bits
                    else:
                        x = np.uint64(0)
                    for ln in range(_LANES):
                        w[j, ln] = x
        else:
            for k in range(8):
                for ln in range(_LANES):
                    w[k, ln] = s[k, ln]
                    s[k, ln] = ostate[k]
            for j in range(8, 16):
                x = np.uint64(0x80000000) if j == 8 else np.uint64(0)
                if j == 15:
                    x = np.uint64((_BLOCK + 32) * 8)
                for ln in range(_LANES):
                    w[j, ln] = x
        _compress(s, w, v, _LANES)
    for ln in range(min(_LANES, stop - first)):
        out[first + ln] = _truncate(np.uint64(s[0, ln]), np.uint64(s[1, ln]))


@numba.njit(**JIT)
def _words_range(istate, ostate, words, start, stop, out):  # type: ignore[no-untyped-def]
    """HMAC of rows ``start:stop`` of ``words`` into ``out``, ``_LANES`` rows at a time."""
    s = np.empty((8, _LANES), np.uint32)
    w = np.empty((64, _LANES), np.uint32)
    v = np.empty((8, _LANES), np.uint32)
    for first in range(start, stop, _LANES):
        _words_batch(istate, ostate, words, first, stop, s, w, v, out)


@numba.njit(**JIT)
def hmac_words(istate: np.ndarray, ostate: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Truncated HMAC-SHA256 of each row of ``words`` (``uint64[n, m]``, little-endian bytes).

    ``istate``/``ostate`` come from `hmac_states`; row ``i`` is the ``8 * m``-byte message
    ``words[i]`` as little-endian bytes; the result is the digest's first 8 bytes, little-endian.
    """
    n = words.shape[0]
    out = np.empty(n, np.uint64)
    _words_range(istate, ostate, words, np.int64(0), n, out)
    return out


@numba.njit(**JIT_PARALLEL)
def hmac_words_parallel(istate: np.ndarray, ostate: np.ndarray, words: np.ndarray) -> np.ndarray:
    """`hmac_words` with runs of batches spread over threads (for large inputs)."""
    n = words.shape[0]
    out = np.empty(n, np.uint64)
    per_task = _LANES * _BATCHES_PER_TASK
    for task in prange((n + per_task - 1) // per_task):
        start = task * per_task
        _words_range(istate, ostate, words, start, min(n, start + per_task), out)
    return out


@numba.njit(**JIT)
def hmac_strings(
    istate: np.ndarray, ostate: np.ndarray, data: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """Truncated HMAC-SHA256 of each byte string ``data[offsets[i]:offsets[i + 1]]``."""
    n = offsets.shape[0] - 1
    out = np.empty(max(n, 0), np.uint64)
    s = np.empty((8, 1), np.uint32)
    w = np.empty((64, 1), np.uint32)
    v = np.empty((8, 1), np.uint32)
    for i in range(n):
        for k in range(8):
            s[k, 0] = istate[k]
        _absorb_padded(s, w, v, data, offsets[i], offsets[i + 1], _BLOCK)
        for k in range(8):
            w[k, 0] = s[k, 0]
            s[k, 0] = ostate[k]
        w[8, 0] = 0x80000000
        for j in range(9, 15):
            w[j, 0] = 0
        w[15, 0] = (_BLOCK + 32) * 8
        _compress_one(s, w, v)
        out[i] = _truncate(np.uint64(s[0, 0]), np.uint64(s[1, 0]))
    return out
