"""Hardened keyed Bloom encodings: fill, similarity, keys, salting, parameters."""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.errors import ConfigError
from matcher.steward.encodings import BloomEncoder, check_params, dice, pack_qgram, qgrams
from matcher.steward.hashed_file import EncodingParams
from matcher.steward.keys import RoundKeys
from matcher.steward.tokens import date_words, name_columns
from tests.strategies import hashing_names, normalised_records, records_frame

KEYS = RoundKeys.derive(bytes(range(32)), "round-1")
PARAMS = EncodingParams()


def _rec(given: list[str], surnames: list[str], born: date | None) -> dict:
    return {
        "record_id": "x",
        "pnr": None,
        "pnr_kind": None,
        "given_names": given,
        "surnames": surnames,
        "birth_date": born,
        "signal": None,
        "signal_date": None,
    }


def _encode(records: pl.DataFrame, keys: RoundKeys = KEYS, params: EncodingParams = PARAMS):
    return BloomEncoder(keys, params).encode(
        name_columns(records), date_words(records["birth_date"])
    )


def _pair(a: dict, b: dict, **kwargs) -> float:
    blooms = _encode(records_frame([a, b]), **kwargs).to_list()
    return dice(blooms[0], blooms[1])


BORN = date(2012, 5, 17)


def test_default_parameters_are_recorded() -> None:
    assert PARAMS.bits == 1024 and PARAMS.qgram == 2 and PARAMS.salt == "birth_year"
    assert PARAMS.hardening == ["salt", "diffusion"] and PARAMS.diffusion_taps == 3
    assert set(PARAMS.hashes_per_field) == {"given", "surname", "birth_date"}


@given(normalised_records(min_rows=1))
def test_encodings_have_the_right_length_and_are_null_only_when_empty(records) -> None:
    blooms = _encode(records)
    empty = (
        (records["given_names"].list.len() == 0)
        & (records["surnames"].list.len() == 0)
        & records["birth_date"].is_null()
    )
    assert blooms.is_null().to_list() == empty.to_list()
    assert all(len(b) == 128 for b in blooms.drop_nulls().to_list())


@given(
    st.lists(
        st.tuples(
            st.lists(hashing_names(3), min_size=1, max_size=2),
            st.lists(hashing_names(4), min_size=1, max_size=2),
            st.dates(min_value=date(2000, 1, 1), max_value=date(2025, 1, 1)),
        ),
        min_size=20,
        max_size=40,
    )
)
def test_about_half_the_bits_are_set(people) -> None:
    records = records_frame([_rec(g, s, d) for g, s, d in people])
    fills = [int.from_bytes(b, "little").bit_count() / 1024 for b in _encode(records).to_list()]
    assert 0.4 <= float(np.mean(fills)) <= 0.6
    assert min(fills) >= 0.2 and max(fills) <= 0.8


@pytest.mark.parametrize(
    "variant",
    [
        _rec(["anna", "maria"], ["anderson"], BORN),
        _rec(["ana", "maria"], ["andersson"], BORN),
        _rec(["anna", "maria"], ["andersson"], date(2012, 5, 18)),
        _rec(["anna"], ["andersson"], BORN),
        _rec(["anna", "maria"], ["andersson", "berg"], BORN),
    ],
)
def test_similar_records_have_high_dice(variant: dict) -> None:
    anna = _rec(["anna", "maria"], ["andersson"], BORN)
    assert _pair(anna, variant) >= 0.75


@pytest.mark.parametrize(
    "other",
    [
        _rec(["erik"], ["lindqvist"], BORN),
        _rec(["mohammed"], ["ali"], date(2012, 9, 1)),
        _rec(["anna", "maria"], ["andersson"], date(2013, 5, 17)),  # salted by birth year
    ],
)
def test_different_records_have_low_dice(other: dict) -> None:
    anna = _rec(["anna", "maria"], ["andersson"], BORN)
    assert _pair(anna, other) <= 0.62


@given(
    hashing_names(4), hashing_names(4), hashing_names(4), hashing_names(4), st.dates(), st.dates()
)
def test_a_one_letter_typo_scores_above_unrelated(g, s, g2, s2, d, d2) -> None:
    typo = s[:-1] + ("x" if s[-1] != "x" else "y")
    base = _rec([g], [s], d)
    close = _pair(base, _rec([g], [typo], d))
    far = _pair(base, _rec([g2], [s2], d2))
    if {g2, s2} & {g, s} or d2.year == d.year:
        return
    assert close > far


def test_folded_spellings_encode_alike() -> None:
    assert _pair(_rec(["åsa"], ["öberg"], BORN), _rec(["asa"], ["oberg"], BORN)) == 1.0


def test_rounds_and_keys_give_unrelated_encodings() -> None:
    records = records_frame([_rec(["anna"], ["andersson"], BORN)])
    a = _encode(records).to_list()[0]
    b = _encode(records, keys=RoundKeys.derive(bytes(range(32)), "round-2")).to_list()[0]
    c = _encode(records, keys=RoundKeys.derive(bytes(32), "round-1")).to_list()[0]
    assert dice(a, b) < 0.62 and dice(a, c) < 0.62


def _unkeyed_clk(names: list[str], bits: int = 1024, k: int = 20) -> bytes:
    """Textbook unkeyed CLK (double hashing with SHA-1 and MD5 over bigrams)."""
    value = 0
    for name in names:
        padded = f"_{name}_"
        for j in range(len(padded) - 1):
            gram = padded[j : j + 2].encode()
            h1 = int.from_bytes(hashlib.sha1(gram).digest(), "big")
            h2 = int.from_bytes(hashlib.md5(gram).digest(), "big")
            for i in range(k):
                value |= 1 << ((h1 + i * h2) % bits)
    return value.to_bytes(bits // 8, "little")


@given(st.lists(hashing_names(3), min_size=1, max_size=3))
def test_encodings_are_not_an_unkeyed_hash(names: list[str]) -> None:
    records = records_frame([_rec(names, [], None)])
    bloom = _encode(records).to_list()[0]
    assert dice(bloom, _unkeyed_clk(names)) < 0.75
    assert bloom != _encode(records, params=EncodingParams(hardening=["salt"])).to_list()[0]


def test_qgrams_and_packing() -> None:
    assert len(qgrams("ab", 2)) == 3 and len(qgrams("", 2)) == 1
    assert pack_qgram((1, 2)) != pack_qgram((2, 1))
    assert pack_qgram((1, 2, 3, 4)) != pack_qgram((1, 2, 3, 5))


@pytest.mark.parametrize(
    "params",
    [
        EncodingParams(bits=1000),
        EncodingParams(scheme="double-hashing"),
        EncodingParams(hashes_per_field={"sex": 10}),
        EncodingParams(hashes_per_field={"given": 0}),
        EncodingParams(hashes_per_field={"given": 100}),
        EncodingParams(hardening=["blip"]),
        EncodingParams(salt="postcode"),
    ],
)
def test_unsupported_parameters_are_refused(params: EncodingParams) -> None:
    with pytest.raises(ConfigError):
        check_params(params)


@pytest.mark.parametrize(
    "params",
    [EncodingParams(bits=512, qgram=3), EncodingParams(qgram=4, hardening=[]), EncodingParams()],
)
def test_other_supported_parameters_work(params: EncodingParams) -> None:
    records = records_frame(
        [_rec(["anna"], ["andersson"], BORN), _rec(["anna"], ["andersen"], BORN)]
    )
    blooms = _encode(records, params=params).to_list()
    assert len(blooms[0]) == params.bits // 8
    assert dice(blooms[0], blooms[1]) > 0.6
