"""The identity-number kernel (Numba) against its plain-Python twin, on noisy written values."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from matcher.kernels import normalise as K
from matcher.kernels import normalise_reference as R
from tests.strategies import invalid_luhn_identity_numbers, valid_identity_numbers

_noisy = st.text(alphabet="0123456789-+ \t'`.,eE:/=@TFKé\u2013\u00a0０", max_size=16)
_values = st.one_of(
    _noisy,
    st.text(max_size=14),
    st.text("0123456789", min_size=9, max_size=13),
    valid_identity_numbers(),
    valid_identity_numbers().map(lambda c: c[2:]),
    valid_identity_numbers().map(lambda c: c[3:]),
    valid_identity_numbers().map(lambda c: f" '{c[2:8]}+{c[8:]}"),
    valid_identity_numbers().map(lambda c: f"{c[:8]}+{c[8:]}"),
    valid_identity_numbers().map(lambda c: f"{c[:8]}-{c[8:]}"),
    invalid_luhn_identity_numbers(),
)


def _run(parse, data, offsets, ref):
    n = offsets.shape[0] - 1
    pnr = np.zeros(n * K.PNR_BYTES, np.uint8)
    pnr_offsets = np.zeros(n + 1, np.int64)
    birth_days = np.zeros(n, np.int32)
    kinds = np.zeros(n, np.uint8)
    reasons = np.zeros(n, np.uint8)
    args = (ref.year, ref.month, ref.day, pnr, pnr_offsets, birth_days, kinds, reasons)
    used = parse(data, offsets, *args)
    return (
        used,
        pnr.tolist(),
        pnr_offsets.tolist(),
        birth_days.tolist(),
        kinds.tolist(),
        reasons.tolist(),
    )


@given(
    st.lists(_values, max_size=20),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)),
)
@example(["0229000000", "000229+0000", "1800010100000", "2.00501E+11"], date(2000, 1, 1))
def test_parse_ids(texts: list[str], ref: date) -> None:
    blobs = [t.encode() for t in texts]
    data = np.frombuffer(b"".join(blobs) or b"\x00", dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
    assert _run(K.parse_ids, data, offsets, ref) == _run(R.parse_ids, data, offsets, ref)


@given(st.dates(min_value=date(1, 1, 1)))
def test_days_from_civil(day: date) -> None:
    assert K.days_from_civil(day.year, day.month, day.day) == (day - date(1970, 1, 1)).days


@given(
    st.lists(st.tuples(st.booleans(), st.one_of(st.integers(0, 5), st.integers(0, 2**64 - 1)))),
    st.integers(0, 40),
)
def test_factorize(rows: list[tuple[bool, int]], expected: int) -> None:
    hashes = np.array([h for _, h in rows], dtype=np.uint64)
    valid = np.array([v for v, _ in rows], dtype=np.bool_)
    results = []
    for factorize in (K.factorize, R.factorize):
        code_out = np.zeros(len(rows), np.int64)
        first_out = np.zeros(len(rows), np.int64)
        k = factorize(hashes, valid, code_out, first_out, expected)
        results.append((k, code_out.tolist(), first_out[:k].tolist()))
    assert results[0] == results[1]
    k, codes, firsts = results[0]
    values = [h if v else None for v, h in rows]
    assert [values[firsts[c]] for c in codes] == values
