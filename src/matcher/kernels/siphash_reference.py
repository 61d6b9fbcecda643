"""Plain-Python twins of ``siphash``: same names, signatures and contracts, no Numba.

``siphash24`` (general byte messages) is also checked against the published SipHash-2-4 test
vectors in ``tests/test_hash_kernels.py``.
"""

from __future__ import annotations

import struct

import numpy as np

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
