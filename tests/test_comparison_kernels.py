"""The comparison kernels agree with their plain-Python twins (``kernels.comparison_reference``),
and the levels mean what they say."""

from __future__ import annotations

import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.kernels import comparison as K
from matcher.kernels import comparison_reference as R
from matcher.linkage.blocking import BlockingParams, build_blocks
from matcher.linkage.comparison import FieldArrays
from matcher.linkage.model import levels_of
from tests.profiles import examples


def _csr(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(lists) + 1, np.int64)
    np.cumsum([len(x) for x in lists], out=offsets[1:])
    return offsets, np.array([v for x in lists for v in x], np.uint64)


@st.composite
def field_arrays(draw: st.DrawFn, max_records: int = 10) -> FieldArrays:
    """Small vocabularies, so words, sound keys and date parts often agree."""
    n = draw(st.integers(2, max_records))
    names = st.lists(st.integers(1, 5), max_size=3)
    given = [draw(names) for _ in range(n)]
    surname = [draw(names) for _ in range(n)]
    dates = [
        draw(st.sampled_from([[], [1, 2, 3], [1, 9, 9], [8, 2, 8], [7, 7, 7]])) for _ in range(n)
    ]
    rows = st.lists(st.integers(0, 2**64 - 1), min_size=4, max_size=4)
    given_bits = np.array([draw(rows) for _ in range(n)], np.uint64).reshape(n, 4)
    surname_bits = np.array([draw(rows) for _ in range(n)], np.uint64).reshape(n, 4)
    g_off, g_words = _csr(given)
    s_off, s_words = _csr(surname)
    d_off, d_parts = _csr(dates)
    sound = np.uint64(3)
    return FieldArrays(
        kinds=np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.uint8),
        ids=np.array(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)), np.uint64),
        given_off=g_off,
        given_words=g_words,
        given_sounds=g_words % sound,
        given_counts=np.array(
            draw(st.lists(st.integers(1, 9), min_size=g_words.size, max_size=g_words.size)),
            np.int64,
        ),
        surname_off=s_off,
        surname_words=s_words,
        surname_sounds=s_words % sound,
        surname_counts=np.array(
            draw(st.lists(st.integers(1, 9), min_size=s_words.size, max_size=s_words.size)),
            np.int64,
        ),
        date_off=d_off,
        date_parts=d_parts,
        given_bits=given_bits,
        given_pop=np.bitwise_count(given_bits).sum(axis=1).astype(np.int64),
        surname_bits=surname_bits,
        surname_pop=np.bitwise_count(surname_bits).sum(axis=1).astype(np.int64),
    )


@settings(max_examples=examples(60))
@given(field_arrays())
def test_compare_pair_matches_twin(fields: FieldArrays) -> None:
    packed = fields.as_tuple()
    n = fields.size
    left = np.repeat(np.arange(n, dtype=np.int64), n)
    right = np.tile(np.arange(n, dtype=np.int64), n)
    got = K.pair_patterns(packed, left, right)
    want = R.pair_patterns(packed, left, right)
    for a, b in zip(got, want, strict=True):
        assert a.tolist() == b.tolist()


@settings(max_examples=examples(60))
@given(field_arrays())
def test_levels_are_symmetric_and_self_agrees(fields: FieldArrays) -> None:
    """compare(i, j) == compare(j, i); a record agrees with itself on every field it has."""
    packed = fields.as_tuple()
    n = fields.size
    for i in range(n):
        for j in range(n):
            assert K.compare_pair(packed, i, j) == K.compare_pair(packed, j, i)
        own = K.compare_pair(packed, i, i)
        has_date = fields.date_off[i + 1] > fields.date_off[i]
        assert own[1] == (1 if has_date else 0)
        assert own[2] == (1 if fields.given_off[i + 1] > fields.given_off[i] else 0)
        assert own[3] == (1 if fields.surname_off[i + 1] > fields.surname_off[i] else 0)


@settings(max_examples=examples(40))
@given(field_arrays(max_records=12), st.data(), st.booleans())
def test_block_pair_scores_matches_twin(
    fields: FieldArrays, data: st.DataObject, scoring: bool
) -> None:
    """Counting mode (no weights) and scoring mode agree with the twin."""
    n = fields.size
    tokens = [data.draw(st.lists(st.integers(1, 3), max_size=2, unique=True)) for _ in range(n)]
    offsets, values = _csr(tokens)
    bits = np.zeros((n, 1), np.uint64)
    params = BlockingParams(max_block=4, tile=4, passes=1)
    blocks = build_blocks(offsets, values, np.ones(n, bool), bits, 64, params)
    group = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), np.int64)
    gtoken = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.uint64)
    ghas = gtoken > 0
    min_points = data.draw(st.integers(0, 4))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32)))
    weights = rng.normal(0, 4, K.PATTERNS) if scoring else np.zeros(0)
    tf_const = np.abs(rng.normal(8, 2, (2, 2)))
    bar = float(data.draw(st.floats(-5, 5)))
    cap = blocks.pair_capacity()
    offs = np.r_[0, np.cumsum(cap)[:-1]].astype(np.int64) if cap.size else np.zeros(0, np.int64)
    size = int(cap.sum()) + 1
    outs = []
    for impl in (K, R):
        hist = np.zeros((numba.config.NUMBA_NUM_THREADS, K.PATTERNS), np.int64)
        out = (np.zeros(size, np.int64), np.zeros(size, np.int64), np.zeros(size),
               np.zeros(size, np.int32), np.zeros(blocks.count, np.int64),
               np.zeros(blocks.count, np.int64))  # fmt: skip
        impl.block_pair_scores(
            blocks.members, blocks.starts, 0, blocks.count, offs, blocks.rec_offsets,
            blocks.rec_blocks, fields.as_tuple(), group, gtoken, ghas, min_points, weights,
            tf_const, bar, hist, *out,
        )  # fmt: skip
        outs.append((hist.sum(axis=0), *out))
    (k_hist, *k_out), (r_hist, *r_out) = outs
    assert k_hist.tolist() == r_hist.tolist()
    for a, b in zip(k_out, r_out, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12)


def test_levels_decode_codes() -> None:
    codes = np.array(
        [
            K.pattern_code(a, d, g, s)
            for a in range(4)
            for d in range(4)
            for g in range(6)
            for s in range(6)
        ]
    )
    assert sorted(set(codes.tolist())) == list(range(K.PATTERNS))
    levels = levels_of(codes)
    again = [K.pattern_code(*row) for row in levels.tolist()]
    assert again == codes.tolist()
