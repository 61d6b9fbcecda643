"""The hashing kernels (Numba) against their plain-Python twins, and SipHash test vectors."""

from __future__ import annotations

import struct
from datetime import date

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matcher.kernels import hashing as K
from matcher.kernels import hashing_reference as R

U64 = st.integers(0, 2**64 - 1)
KEY = bytes(range(16))
K0, K1 = struct.unpack("<2Q", KEY)
#: SipHash-2-4 reference outputs (Aumasson & Bernstein, vectors.h) for key 00..0f and
#: messages 00, 00 01, ... of the given lengths, as little-endian 64-bit integers.
VECTORS = {0: 0x726FDB47DD0E0E31, 1: 0x74F839C593DC67FD, 7: 0xAB0200F58B01D137}
VECTORS |= {8: 0x93F5F5799A932462, 15: 0xA129CA6149BE45E5, 16: 0x3F2ACC7F57C29BDB}


def test_reference_siphash_matches_published_vectors() -> None:
    for length, want in VECTORS.items():
        assert R.siphash24(KEY, bytes(range(length))) == want


def test_kernel_siphash_matches_published_vectors() -> None:
    data = np.arange(64, dtype=np.uint8)
    for length, want in VECTORS.items():
        assert int(K.sip_bytes(np.uint64(K0), np.uint64(K1), data, 0, length)) == want


@given(U64, U64, st.lists(st.tuples(U64, U64, U64, U64), max_size=8))
def test_sip4(k0: int, k1: int, rows: list[tuple[int, int, int, int]]) -> None:
    words = np.array(rows, dtype=np.uint64).reshape(-1, 4)
    got = K.sip4_many(np.uint64(k0), np.uint64(k1), words)
    assert got.tolist() == R.sip4_many(k0, k1, words).tolist()


@given(U64, U64, st.lists(st.text(max_size=20), max_size=10))
def test_hash_strings(k0: int, k1: int, texts: list[str]) -> None:
    blobs = [t.encode() for t in texts]
    data = np.frombuffer(b"".join(blobs) or b"\x00", dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
    got = K.hash_strings(np.uint64(k0), np.uint64(k1), data, offsets)
    assert got.tolist() == R.hash_strings(k0, k1, data, offsets).tolist()


@given(st.lists(st.text(max_size=12), max_size=8), st.integers(1, 4))
def test_name_grams(texts: list[str], q: int) -> None:
    blobs = [t.encode() for t in texts]
    data = np.frombuffer(b"".join(blobs) or b"\x00", dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
    got = K.name_grams(data, offsets, q, 0x110001)
    want = R.name_grams(data, offsets, q, 0x110001)
    for a, b in zip(got, want, strict=True):
        assert a.tolist() == b.tolist()


@st.composite
def csr(draw: st.DrawFn, n: int, max_per_row: int, values: st.SearchStrategy[int]) -> tuple:
    """Offsets (n + 1) and flat uint64 values of a ragged array with n rows."""
    counts = draw(st.lists(st.integers(0, max_per_row), min_size=n, max_size=n))
    flat = draw(st.lists(values, min_size=sum(counts), max_size=sum(counts)))
    off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return off, np.array(flat, dtype=np.uint64)


WORDS = st.integers(1, 2**64 - 1) | st.sampled_from([1, 2, 3])  # repeats exercise the dedupe
DATES = st.sampled_from([0, (2012 << 16) | (5 << 8) | 17, (2013 << 16) | (1 << 8) | 2])


@st.composite
def token_inputs(draw: st.DrawFn) -> dict:
    n = draw(st.integers(0, 6))
    g_off, g_word = draw(csr(n, 4, WORDS))
    s_off, s_word = draw(csr(n, 3, WORDS))
    return {
        "k0": draw(U64),
        "k1": draw(U64),
        "dates": np.array(draw(st.lists(DATES, min_size=n, max_size=n)), dtype=np.uint64),
        "g_off": g_off,
        "g_word": g_word,
        "g_init": np.array([w % 5 + 1 for w in g_word.tolist()], dtype=np.uint64),
        "s_off": s_off,
        "s_word": s_word,
        "full": np.array(draw(st.lists(WORDS | st.just(0), min_size=n, max_size=n)), np.uint64),
        "full_init": np.array(draw(st.lists(WORDS, min_size=n, max_size=n)), np.uint64),
    }


@given(token_inputs())
def test_block_tokens(x: dict) -> None:
    n = len(x["dates"])
    outs = [np.zeros((n, K.MAX_BLOCK_TOKENS), np.uint64) for _ in range(2)]
    args = (x["dates"], x["g_off"], x["g_word"], x["s_off"], x["s_word"])
    got = K.block_tokens(np.uint64(x["k0"]), np.uint64(x["k1"]), *args, outs[0])
    want = R.block_tokens(x["k0"], x["k1"], *args, outs[1])
    assert got.tolist() == want.tolist()
    assert outs[0].tolist() == outs[1].tolist()
    par = np.zeros_like(outs[0])
    got_par = K.block_tokens_parallel(np.uint64(x["k0"]), np.uint64(x["k1"]), *args, par)
    assert got_par.tolist() == got.tolist() and par.tolist() == outs[0].tolist()


@given(U64, U64, U64, U64, U64, st.integers(1, 25), st.sampled_from([64, 128, 1024, 1000]))
def test_gram_positions(k0: int, k1: int, salt: int, w0: int, w1: int, k: int, bits: int) -> None:
    got = K.gram_positions(
        np.uint64(k0), np.uint64(k1), np.uint64(salt), np.uint64(w0), np.uint64(w1), k, bits
    )
    want = R.gram_positions(k0, k1, salt, w0, w1, k, bits)
    assert got.tolist() == want.tolist()
    assert all(0 <= b < bits for b in got.tolist())


#: Row lengths in words: 1024-bit rows (16 words) take the SIMD path, the others go word by word.
WORDS = st.sampled_from([1, 2, 3, 16, 17])


@st.composite
def bloom_inputs(draw: st.DrawFn) -> dict:
    words = draw(WORDS)
    n_fields = 3
    field_k = np.array(draw(st.lists(st.integers(0, 6), min_size=3, max_size=3)), np.int64)
    n_grams = draw(st.integers(0, 8))
    n_salts = draw(st.integers(1, 3))
    n_items = draw(st.integers(0, 5))
    item_off, item_gram = draw(csr(n_items, 4, st.integers(0, max(n_grams - 1, 0))))
    if n_grams == 0:
        item_off = np.zeros(n_items + 1, np.int64)
        item_gram = np.zeros(0, np.uint64)
    n = draw(st.integers(0, 6))
    rec_off, rec_item = draw(csr(n, 3, st.integers(0, max(n_items - 1, 0))))
    if n_items == 0:
        rec_off = np.zeros(n + 1, np.int64)
        rec_item = np.zeros(0, np.uint64)
    return {
        "field_keys": np.array(
            draw(st.lists(st.tuples(U64, U64), min_size=n_fields, max_size=n_fields)), np.uint64
        ),
        "field_k": field_k,
        "gram_field": np.array(
            draw(st.lists(st.integers(0, 2), min_size=n_grams, max_size=n_grams)), np.int64
        ),
        "gram_w0": np.array(draw(st.lists(U64, min_size=n_grams, max_size=n_grams)), np.uint64),
        "gram_w1": np.array(draw(st.lists(U64, min_size=n_grams, max_size=n_grams)), np.uint64),
        "salts": np.array(draw(st.lists(U64, min_size=n_salts, max_size=n_salts)), np.uint64),
        "rec_salt": np.array(
            draw(st.lists(st.integers(0, n_salts - 1), min_size=n, max_size=n)), np.int64
        ),
        "rec_off": rec_off,
        "rec_item": rec_item.astype(np.int64),
        "item_off": item_off,
        "item_gram": item_gram.astype(np.int64),
        "taps": np.array(
            draw(st.lists(st.integers(1, words * 64 - 1), max_size=4, unique=True)), np.int64
        ),
        "words": words,
        # dense random masks instead of the k-bit ones (every bit of the rotations exercised)
        "dense_seed": draw(st.none() | st.integers(0, 2**32 - 1)),
    }


@given(bloom_inputs())
def test_gram_masks(x: dict) -> None:
    table_args = (x["field_keys"], x["field_k"], x["gram_field"], x["gram_w0"], x["gram_w1"])
    got = K.gram_masks(*table_args, x["salts"], x["words"])
    want = R.gram_masks(*table_args, x["salts"], x["words"])
    assert got.tolist() == want.tolist()


@given(bloom_inputs())
def test_bloom_bits(x: dict) -> None:
    table_args = (x["field_keys"], x["field_k"], x["gram_field"], x["gram_w0"], x["gram_w1"])
    masks = R.gram_masks(*table_args, x["salts"], x["words"])
    if x["dense_seed"] is not None:
        rng = np.random.default_rng(x["dense_seed"])
        masks = rng.integers(0, 2**64, size=masks.shape, dtype=np.uint64)
    n = len(x["rec_salt"])
    rest = (
        x["rec_salt"],
        x["rec_off"],
        x["rec_item"],
        x["item_off"],
        x["item_gram"],
        x["taps"],
    )
    outs = [np.zeros((n, x["words"]), np.uint64) for _ in range(3)]
    K.bloom_bits(masks, *rest, outs[0])
    R.bloom_bits(masks, *rest, outs[1])
    K.bloom_bits_parallel(masks, *rest, outs[2])
    assert outs[0].tolist() == outs[1].tolist() == outs[2].tolist()


def _taps(words: int) -> st.SearchStrategy[int]:
    """Rotation offsets: any integer (taken modulo the length), often at word boundaries."""
    length = words * 64
    edges = [0, 1, 63, 64, 65, length - 64, length - 1, length, length + 1, -1, -64]
    return st.integers(-2 * length, 3 * length) | st.sampled_from(edges)


@given(
    WORDS.flatmap(
        lambda w: st.tuples(
            st.lists(st.lists(U64, min_size=w, max_size=w), max_size=4),
            st.lists(_taps(w), max_size=5),
            st.just(w),
        )
    )
)
def test_diffuse(x: tuple) -> None:
    rows, taps, words = x
    bits_in = np.array(rows, dtype=np.uint64).reshape(-1, words)
    taps_arr = np.array(taps, dtype=np.int64)
    got, want = np.zeros_like(bits_in), np.zeros_like(bits_in)
    K.diffuse(bits_in, taps_arr, got)
    R.diffuse(bits_in, taps_arr, want)
    assert got.tolist() == want.tolist()


@given(
    st.integers(1, 5).flatmap(
        lambda w: st.lists(
            st.tuples(st.lists(U64, min_size=w, max_size=w), st.integers(0, w)), max_size=6
        )
    )
)
def test_compact_rows(rows: list) -> None:
    width = len(rows[0][0]) if rows else 1
    matrix = np.array([r for r, _ in rows], dtype=np.uint64).reshape(-1, width)
    counts = np.array([c for _, c in rows], dtype=np.int64)
    assert K.compact_rows(matrix, counts).tolist() == R.compact_rows(matrix, counts).tolist()


@given(
    st.lists(st.lists(st.integers(-2, 6), max_size=7), max_size=8),
    st.integers(0, 4),
)
def test_dedupe_cap(rows: list[list[int]], cap: int) -> None:
    offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    idx = np.array([v for r in rows for v in r], dtype=np.int64)
    got_off, got_idx = K.dedupe_cap(offsets, idx, cap)
    want_off, want_idx = R.dedupe_cap(offsets, idx, cap)
    assert got_off.tolist() == want_off.tolist() and got_idx.tolist() == want_idx.tolist()


@st.composite
def name_records(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Dates, CSR given/part words and whole-surname words of a few records (0 = missing)."""
    n = draw(st.integers(0, 6))
    dates = np.array(draw(st.lists(st.sampled_from([0, 5, 7]), min_size=n, max_size=n)), np.uint64)
    full = np.array(draw(st.lists(st.sampled_from([0, 11]), min_size=n, max_size=n)), np.uint64)
    csr = []
    for _ in range(2):
        counts = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        off = np.zeros(n + 1, np.int64)
        np.cumsum(counts, out=off[1:])
        values = draw(st.lists(U64, min_size=sum(counts), max_size=sum(counts)))
        csr += [off, np.array(values, dtype=np.uint64)]
    return dates, csr[0], csr[1], csr[2], csr[3], full


@given(name_records())
def test_name_token_messages(x: tuple[np.ndarray, ...]) -> None:
    got_off, got = K.name_token_messages(*x)
    want_off, want = R.name_token_messages(*x)
    assert got_off.tolist() == want_off.tolist() and got.tolist() == want.tolist()


@given(
    st.lists(
        st.tuples(st.dates(), st.booleans()),
        max_size=20,
    )
)
def test_packed_dates(rows: list[tuple[date, bool]]) -> None:
    epoch = date(1970, 1, 1).toordinal()
    days = np.array([d.toordinal() - epoch for d, _ in rows], dtype=np.int32)
    valid = np.array([ok for _, ok in rows], dtype=np.bool_)
    assert K.packed_dates(days, valid).tolist() == R.packed_dates(days, valid).tolist()
