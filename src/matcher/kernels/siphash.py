"""SipHash-2-4 kernels: the keyed PRF under every token, block value and Bloom bit position.

SipHash-2-4 (Aumasson & Bernstein 2012) is a PRF with a 128-bit key and 64-bit output. Here it is
mostly applied to exactly four little-endian 64-bit words (a 32-byte message), so ``sip4(k0, k1,
a, b, c, d)`` equals standard SipHash-2-4 of ``struct.pack("<4Q", a, b, c, d)`` under the key
``struct.pack("<2Q", k0, k1)``; ``sip_bytes`` is the standard function over a byte range.
Plain-Python twin: ``siphash_reference``.
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


@numba.njit(inline="always", **JIT)
def _rotl(x: np.uint64, b: int) -> np.uint64:
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


if numba.config.DISABLE_JIT:  # pragma: no cover - the kernel bodies run as plain Python

    def _add(a: np.uint64, b: np.uint64) -> np.uint64:
        """``a + b`` modulo 2**64 (NumPy scalars would warn on the wrap that jitted code does)."""
        return np.uint64((int(a) + int(b)) & 0xFFFFFFFFFFFFFFFF)

else:

    @numba.njit(inline="always", **JIT)
    def _add(a: np.uint64, b: np.uint64) -> np.uint64:
        """``a + b`` modulo 2**64."""
        return a + b


@numba.njit(inline="always", **JIT)
def _rounds(v0, v1, v2, v3, n):  # type: ignore[no-untyped-def]
    for _ in range(n):
        v0 = _add(v0, v1)
        v1 = _rotl(v1, 13)
        v1 ^= v0
        v0 = _rotl(v0, 32)
        v2 = _add(v2, v3)
        v3 = _rotl(v3, 16)
        v3 ^= v2
        v0 = _add(v0, v3)
        v3 = _rotl(v3, 21)
        v3 ^= v0
        v2 = _add(v2, v1)
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
def sip_bytes(k0: np.uint64, k1: np.uint64, data: np.ndarray, start: int, end: int) -> np.uint64:
    """Standard SipHash-2-4 of the bytes ``data[start:end]`` under ``(k0, k1)``."""
    v0 = k0 ^ _C0
    v1 = k1 ^ _C1
    v2 = k0 ^ _C2
    v3 = k1 ^ _C3
    length = end - start
    full = start + (length // 8) * 8
    p = start
    while p < full:
        m = np.uint64(0)
        for j in range(8):
            m |= np.uint64(data[p + j]) << np.uint64(8 * j)
        v3 ^= m
        v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
        v0 ^= m
        p += 8
    last = np.uint64(length & 0xFF) << np.uint64(56)
    for j in range(end - full):
        last |= np.uint64(data[full + j]) << np.uint64(8 * j)
    v3 ^= last
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= _FF
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


@numba.njit(**JIT)
def hash_strings(k0: np.uint64, k1: np.uint64, data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``sip_bytes`` of each string ``data[offsets[i]:offsets[i + 1]]``; 0 is replaced by 1."""
    n = offsets.shape[0] - 1
    out = np.empty(n, np.uint64)
    for i in range(n):
        h = sip_bytes(k0, k1, data, offsets[i], offsets[i + 1])
        out[i] = h if h != np.uint64(0) else np.uint64(1)
    return out
