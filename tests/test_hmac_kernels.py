"""The HMAC-SHA256 kernels against Python's ``hmac``/``hashlib`` and the RFC 4231 test vectors."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matcher.kernels import hmac as K
from tests.profiles import examples

KEYS = st.binary(max_size=100)
#: RFC 4231 §4.3 and §4.7 (test cases 2 and 6): key, data, HMAC-SHA256.
RFC4231 = [
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
]


def _want(key: bytes, message: bytes) -> int:
    """The truncated HMAC the kernels promise, from the standard library."""
    return int.from_bytes(hmac.digest(key, message, "sha256")[:8], "little")


def _buffer(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Arrow-style ``(data, offsets)`` of byte strings (``data`` never empty)."""
    data = np.frombuffer(b"".join(blobs) + b"\x00", dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
    return data, offsets


def test_published_vectors() -> None:
    for key, data, digest in RFC4231:
        istate, ostate = K.hmac_states(key)
        got = K.hmac_strings(istate, ostate, *_buffer([data]))
        assert got.tolist() == [int.from_bytes(bytes.fromhex(digest)[:8], "little")]


def test_block_boundaries() -> None:
    blobs = [bytes(range(n)) for n in (0, 55, 56, 63, 64, 119, 120)]
    for key in (b"", bytes(63), bytes(64), bytes(65), b"\x01" * 100):
        istate, ostate = K.hmac_states(key)
        got = K.hmac_strings(istate, ostate, *_buffer(blobs))
        assert got.tolist() == [_want(key, b) for b in blobs]


@settings(max_examples=examples(25))
@given(st.binary(max_size=300))
def test_sha256_bytes(data: bytes) -> None:
    got = K.sha256_bytes(np.frombuffer(data, dtype=np.uint8))
    assert got.tobytes() == hashlib.sha256(data).digest()


@settings(max_examples=examples(30))
@given(KEYS, st.integers(1, 10), st.integers(0, 50), st.data())
def test_hmac_words(key: bytes, m: int, n: int, data: st.DataObject) -> None:
    words = data.draw(arrays(np.uint64, (n, m)))
    istate, ostate = K.hmac_states(key)
    got = K.hmac_words(istate, ostate, words)
    assert got.dtype == np.uint64
    assert got.tolist() == [_want(key, row.astype("<u8").tobytes()) for row in words]
    assert K.hmac_words_parallel(istate, ostate, words).tolist() == got.tolist()


def test_parallel_spans_several_tasks() -> None:
    per_task = K._LANES * K._BATCHES_PER_TASK
    rows = per_task + K._LANES + 3  # a second task ending in a partial batch
    words = np.random.default_rng(3).integers(0, 2**64, size=(rows, 4), dtype=np.uint64)
    istate, ostate = K.hmac_states(bytes(32))
    got = K.hmac_words_parallel(istate, ostate, words)
    for i in [*range(0, rows, 7), per_task - 1, per_task, rows - 1]:
        assert int(got[i]) == _want(bytes(32), words[i].astype("<u8").tobytes())


@settings(max_examples=examples(30))
@given(KEYS, st.lists(st.binary(max_size=200), max_size=8))
def test_hmac_strings(key: bytes, blobs: list[bytes]) -> None:
    istate, ostate = K.hmac_states(key)
    got = K.hmac_strings(istate, ostate, *_buffer(blobs))
    assert got.tolist() == [_want(key, b) for b in blobs]


@given(KEYS, st.text(max_size=30))
def test_strings_agree_with_words(key: bytes, text: str) -> None:
    blob = text.encode()
    blob += bytes(8 - len(blob) % 8)  # a whole number (at least one) of 64-bit words
    words = np.frombuffer(blob, dtype="<u8").astype(np.uint64).reshape(1, -1)
    istate, ostate = K.hmac_states(key)
    got = K.hmac_strings(istate, ostate, *_buffer([blob]))
    assert got.tolist() == K.hmac_words(istate, ostate, words).tolist()
