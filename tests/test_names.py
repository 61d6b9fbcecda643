"""Name normalisation: canonical spelling, parts, folding; scalar == vectorised; idempotence."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from matcher.steward.names import (
    fold,
    fold_expr,
    fold_names,
    given_names,
    given_names_expr,
    name_parts,
    normalise_name,
    normalise_name_expr,
    normalise_names,
    surname_parts,
    surname_parts_expr,
)
from tests.strategies import name_like_text, swedish_given_names, swedish_surnames


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ÅSA   Öberg ", "åsa öberg"),
        ("Andersson - Lindberg", "andersson-lindberg"),
        ("Andersson\u2013Lindberg", "andersson-lindberg"),
        ("O\u2019Brien", "o'brien"),
        ("Jo\u0308nsson", "jönsson"),  # NFD input
        ("Émile", "émile"),
        ("Anna.", "anna"),
        ("-Anna-", "anna"),
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_given_names_keep_every_name_in_order() -> None:
    assert given_names("Johan  Axel") == ["johan", "axel"]
    assert given_names("Anna-Karin Maria") == ["anna", "karin", "maria"]
    assert given_names(None) == []
    assert given_names("  ") == []


def test_surname_parts() -> None:
    assert surname_parts("Andersson-Lindberg") == ["andersson", "lindberg"]
    assert surname_parts("Lindberg Andersson") == ["lindberg", "andersson"]
    assert surname_parts("af Klint") == ["klint"]
    assert surname_parts("von der Lancken") == ["lancken"]
    assert surname_parts("De") == ["de"]  # a particle alone is kept


@pytest.mark.parametrize(
    ("variants", "folded"),
    [
        (["Åsa", "Asa", "AASA"], "asa"),
        (["Jönsson", "Joensson", "Jonsson"], "jonsson"),
        (["Märta", "Maerta", "Marta"], "marta"),
        (["Müller", "Mueller", "Muller"], "muller"),
        (["André", "Andre"], "andre"),
        (["Søren", "Soren"], "soren"),
    ],
)
def test_fold_merges_transliterations(variants: list[str], folded: str) -> None:
    assert {fold(v) for v in variants} == {folded}


def _vectorised(values: list[str | None]) -> pl.DataFrame:
    x = pl.col("x")
    return pl.DataFrame({"x": values}, schema={"x": pl.String}).select(
        n=normalise_name_expr(x),
        g=given_names_expr(x),
        s=surname_parts_expr(x),
        f=fold_expr(x),
    )


_names = st.one_of(name_like_text(), swedish_given_names(), swedish_surnames(), st.none())


@given(st.lists(_names, max_size=20))
@example(["ΟΣ", "İstanbul", "a ' b", "aee", "ﬁnn"])
def test_vectorised_equals_scalar(values: list[str | None]) -> None:
    frame = _vectorised(values)
    expected = [(normalise_name(v), given_names(v), surname_parts(v), fold(v)) for v in values]
    assert list(frame.iter_rows()) == expected


@given(
    st.lists(
        st.one_of(_names, st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.sampled_from(["aae"])),
        max_size=20,
    )
)
def test_fold_names_equals_fold_expr(values: list[str | None]) -> None:
    series = pl.Series("x", values, dtype=pl.String)
    assert (
        fold_names(series).to_list()
        == series.to_frame().select(fold_expr(pl.col("x")))["x"].to_list()
    )


@given(_names)
def test_normalisation_idempotent(value: str | None) -> None:
    once = normalise_name(value)
    assert normalise_name(once) == once
    folded = fold(value)
    assert fold(folded) == folded


@given(swedish_given_names())
def test_given_names_survive_renormalisation(value: str) -> None:
    parts = given_names(value)
    assert given_names(" ".join(parts)) == parts
    assert all(p == normalise_name(p) for p in parts)


_plain_words = st.text(
    "abcdefghijklmnopqrstuvwxyzåäöéüßÿøðþABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖÉÜÀØÞ×÷ªµﬁİΣ",
    min_size=1,
    max_size=8,
)
_fast_path_names = st.one_of(
    _names,
    st.lists(
        st.tuples(_plain_words, st.sampled_from(["", " ", "-", "'", "  ", " - ", "\u2019", "--"])),
        min_size=1,
        max_size=4,
    ).map(lambda parts: "".join(w + sep for w, sep in parts)),
    st.lists(
        st.sampled_from(["af", "von", "De", "der", "Klint", "Essen", "-", " "]), max_size=5
    ).map("".join),
)


@given(st.lists(_fast_path_names, max_size=20))
@example(["Anna-Karin", "o'brien", "ÅSA ÖBERG", "af Klint", "von", "de-Geer", "a--b", "ﬁnn"])
def test_fast_paths_equal_expressions(values: list[str | None]) -> None:
    series = pl.Series("n", values, dtype=pl.String)
    frame = series.to_frame()
    want = frame.select(
        normalise_name_expr(pl.col("n")).alias("norm"),
        given_names_expr(pl.col("n")).alias("given"),
        surname_parts_expr(pl.col("n")).alias("surnames"),
    )
    got = pl.DataFrame(
        {
            "norm": normalise_names(series),
            "given": name_parts(series, surname=False),
            "surnames": name_parts(series, surname=True),
        }
    )
    assert_frame_equal(got, want)
