"""Exact match keys: determinism, round separation, order independence, typo tolerance, blocks.

The contract (tokens.py): ``name_tokens`` are exact links and carry only birth date + a given
name + the surname or a surname part; a typo in one field shares no name token, only a block,
so the fuzzy pass decides (tests/test_linkage_hashing.py shows that it then links).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from datetime import date

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from matcher.kernels.hashing import ID_TAG, NAME_FULL
from matcher.steward.keys import RoundKeys
from matcher.steward.names import fold
from matcher.steward.tokens import NameWords, compute_tokens, date_words, name_columns
from tests.strategies import normalised_records, records_frame

SECRET = bytes(range(32))
KEYS = RoundKeys.derive(SECRET, "round-1")


def _hmac64(purpose: str, message: bytes) -> int:
    """The issue's match key: HMAC-SHA256 under a round sub-key, first 8 bytes, little-endian."""
    digest = hmac.new(KEYS.subkey(purpose), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "little")


def _tokens(records: pl.DataFrame, keys: RoundKeys = KEYS) -> pl.DataFrame:
    return compute_tokens(records, keys)


def _rec(given: list[str], surnames: list[str], born: date | None, pnr: str | None = None) -> dict:
    kind = None if pnr is None else "personnummer"
    return {
        "record_id": "x",
        "pnr": pnr,
        "pnr_kind": kind,
        "given_names": given,
        "surnames": surnames,
        "birth_date": born,
        "signal": None,
        "signal_date": None,
    }


def _shared(a: dict, b: dict, column: str = "name_tokens") -> set[int]:
    t = _tokens(records_frame([a, b]))
    return set(t[column][0].to_list()) & set(t[column][1].to_list())


ANNA = _rec(["anna", "maria"], ["andersson"], date(2012, 5, 17), "201205171236")


@given(normalised_records())
def test_same_input_key_and_round_give_same_tokens(records: pl.DataFrame) -> None:
    assert _tokens(records).equals(_tokens(records))


@given(normalised_records(min_rows=1))
def test_another_round_shares_no_tokens(records: pl.DataFrame) -> None:
    a, b = _tokens(records), _tokens(records, RoundKeys.derive(SECRET, "round-2"))
    for column in ("name_tokens", "block_tokens"):
        left = set(a[column].explode().drop_nulls().to_list())
        right = set(b[column].explode().drop_nulls().to_list())
        assert not left & right
    assert not set(a["id_token"].drop_nulls()) & set(b["id_token"].drop_nulls())


@given(normalised_records(min_rows=1), st.randoms(use_true_random=False))
def test_row_order_does_not_change_tokens_per_record(records: pl.DataFrame, rnd) -> None:
    order = list(range(records.height))
    rnd.shuffle(order)
    straight = _tokens(records)
    shuffled = _tokens(records[order])
    assert shuffled.equals(straight[order])


@given(normalised_records(min_rows=1))
def test_chunking_does_not_change_tokens(records: pl.DataFrame) -> None:
    whole = _tokens(records)
    parts = pl.concat([_tokens(records.slice(i, 1)) for i in range(records.height)])
    assert parts.equals(whole)


@given(normalised_records())
def test_id_token_exactly_when_a_valid_number(records: pl.DataFrame) -> None:
    tokens = _tokens(records)
    assert tokens["id_token"].is_null().to_list() == records["pnr"].is_null().to_list()


def test_identity_token_depends_on_number_and_type_only() -> None:
    other_names = _rec(["erik"], ["berg"], date(2011, 1, 1), ANNA["pnr"])
    t = _tokens(records_frame([ANNA, other_names]))
    assert t["id_token"][0] == t["id_token"][1]
    snr = dict(ANNA, pnr_kind="samordningsnummer")
    t2 = _tokens(records_frame([ANNA, snr]))
    assert t2["id_token"][0] != t2["id_token"][1]


def test_folded_spellings_share_name_tokens() -> None:
    a = _rec(["åsa"], ["öberg"], date(2013, 2, 3))
    b = _rec(["asa"], ["oberg"], date(2013, 2, 3))
    c = _rec(["aasa"], ["oeberg"], date(2013, 2, 3))
    assert _shared(a, b) and _shared(a, c)


def test_missing_number_still_shares_name_tokens() -> None:
    assert _shared(ANNA, dict(ANNA, pnr=None, pnr_kind=None))


def test_calling_name_second_given_name_shares() -> None:
    assert _shared(ANNA, _rec(["maria"], ["andersson"], ANNA["birth_date"]))


def test_one_part_of_a_double_surname_shares() -> None:
    double = _rec(["erik"], ["lind", "berg"], date(2010, 1, 2))
    assert _shared(double, _rec(["erik"], ["berg"], date(2010, 1, 2)))
    assert _shared(double, _rec(["erik"], ["lind"], date(2010, 1, 2)))


@given(normalised_records())
def test_name_tokens_match_a_reference_of_the_construction(records: pl.DataFrame) -> None:
    names = name_columns(records)
    word, _ = NameWords(KEYS).words(names.names)
    dates = date_words(records["birth_date"])
    got = _tokens(records)["name_tokens"].to_list()
    for i in range(records.height):
        given_words = [
            int(w) for w in word[names.given_idx[names.given_off[i] : names.given_off[i + 1]]]
        ]
        parts = [int(w) for w in word[names.part_idx[names.part_off[i] : names.part_off[i + 1]]]]
        d = int(dates[i])
        expect: list[int] = []
        if d and parts:
            padded = [*parts, 0, 0, 0][:3]
            full = (
                parts[0]
                if len(parts) == 1
                else _hmac64("words/surname", struct.pack("<4Q", len(parts), *padded))
            )
            expect = [_name_token(d, g, full) for g in given_words]
            if len(parts) > 1:
                expect += [_name_token(d, g, p) for g in given_words for p in parts]
        assert got[i] == expect


def _name_token(d: int, g: int, s: int) -> int:
    return _hmac64("token/name", struct.pack("<4Q", NAME_FULL, d, g, s))


@given(normalised_records())
def test_match_keys_are_hmac_sha256_of_the_documented_messages(records: pl.DataFrame) -> None:
    """Identity token = HMAC-SHA256(K_token/id, tag, type, number); name words likewise."""
    kinds = {"personnummer": 1, "samordningsnummer": 2}
    got = _tokens(records)["id_token"].to_list()
    for i, (pnr, kind) in enumerate(zip(records["pnr"], records["pnr_kind"], strict=True)):
        want = None
        if pnr is not None:
            want = _hmac64("token/id", struct.pack("<3Q", ID_TAG, kinds[kind], int(pnr)))
        assert got[i] == want
    names = name_columns(records)
    word, _ = NameWords(KEYS).words(names.names)
    for name, w in zip(names.names, word, strict=True):
        assert int(w) == _hmac64("words/name", name.encode())
        assert fold(name) == name


def test_a_typo_in_any_one_field_is_never_an_exact_link() -> None:
    born = ANNA["birth_date"]
    typos = [
        _rec(["anna", "maria"], ["andresson"], born),  # surname
        _rec(["ana"], ["andersson"], born),  # given name
        _rec(["anna", "maria"], ["andersson"], date(2012, 5, 27)),  # day
        _rec(["anna", "maria"], ["andersson"], date(2012, 6, 17)),  # month
        _rec(["anna", "maria"], ["andersson"], date(2011, 5, 17)),  # year
    ]
    for typo in typos:
        assert not _shared(ANNA, typo), typo
        assert _shared(ANNA, typo, "block_tokens"), typo  # proposed to the fuzzy pass


def test_different_people_share_no_name_tokens() -> None:
    other = _rec(["erik"], ["johansson"], date(2012, 5, 17))
    assert not _shared(ANNA, other)
    sibling = _rec(["oskar"], ["andersson"], date(2014, 8, 1))
    assert not _shared(ANNA, sibling)
    twin = _rec(["alva"], ["andersson"], ANNA["birth_date"])  # same initial, day and surname
    assert not _shared(ANNA, twin)
    namesake = _rec(["anna"], ["andersson"], date(2013, 5, 17))  # same day, another year
    assert not _shared(ANNA, namesake)


def test_a_typo_in_any_one_field_leaves_a_shared_block() -> None:
    born = ANNA["birth_date"]
    typos = [
        _rec(["anna", "maria"], ["nadersson"], born),
        _rec(["nana"], ["andersson"], born),
        _rec(["anna", "maria"], ["andersson"], date(2012, 5, 27)),
        _rec(["anna", "maria"], ["andersson"], date(2021, 5, 17)),
        _rec(["anna", "maria"], ["andersson"], None),
    ]
    for typo in typos:
        assert _shared(ANNA, typo, "block_tokens"), typo


def test_caps_and_empty_records() -> None:
    many = _rec(["a", "bb", "cc", "dd", "ee"], ["ff", "gg", "hh", "ii"], date(2010, 1, 1))
    empty = _rec([], [], None)
    t = _tokens(records_frame([many, empty]))
    assert 0 < t["name_tokens"].list.len()[0] <= 12
    assert 0 < t["block_tokens"].list.len()[0] <= 12
    assert t["name_tokens"].list.len()[1] == 0 and t["block_tokens"].list.len()[1] == 0
    names = name_columns(records_frame([many]))
    assert names.given_off.tolist() == [0, 3] and names.part_off.tolist() == [0, 3]
