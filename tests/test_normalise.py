"""Normalising a read export: the records contract, reject rules, and no value in any report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from matcher.errors import MatcherError
from matcher.steward import normalise
from matcher.steward.exports import read_export
from matcher.steward.normalise import RECORDS_SCHEMA, normalise_export
from matcher.steward.rejects import REJECTS_SCHEMA, write_rejects
from tests.strategies import (
    REFERENCE_DATE,
    invalid_luhn_identity_numbers,
    valid_identity_numbers,
)

REF = REFERENCE_DATE
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "skola_export.csv"


def _raw(**columns: list[str | None]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return frame.with_columns(row=pl.int_range(2, n + 2, dtype=pl.Int64))


def _norm(raw: pl.DataFrame):
    return normalise_export(raw, reference_date=REF, source="export.csv")


def _rejects(result) -> list[tuple[int, str | None, str, str]]:
    return result.rejects.select("row", "column", "reason", "action").rows()


def test_records_contract_schema() -> None:
    result = _norm(_raw(personnummer=["20080121-2242"], first_name=["Noah"]))
    assert dict(result.records.schema) == RECORDS_SCHEMA
    assert dict(result.rejects.schema) == REJECTS_SCHEMA


def test_example_export_end_to_end() -> None:
    export = read_export(EXAMPLE)
    result = normalise_export(
        export.frame, reference_date=REF, source=EXAMPLE.name, headers=export.info.mapping.fields
    )
    assert result.records.height == 20
    assert result.records["pnr"].null_count() == 2  # a newly arrived child and a bad check digit
    assert result.rejects.select("column", "reason", "action").rows() == [
        ("Personnummer", "pnr_checksum", "field_ignored")
    ]
    kinds = set(result.records["pnr_kind"].drop_nulls())
    assert kinds == {"personnummer", "samordningsnummer"}


def test_names_and_birth_date_from_pnr() -> None:
    result = _norm(
        _raw(
            personnummer=["080121-2242"],
            first_name=["  Ella  Sofia "],
            last_name=["Åkesson - Nyström"],
            birth_date=[None],
        )
    )
    rec = result.records.row(0, named=True)
    assert rec["pnr"] == "200801212242"
    assert rec["given_names"] == ["ella", "sofia"]
    assert rec["surnames"] == ["åkesson", "nyström"]
    assert rec["birth_date"] == dt.date(2008, 1, 21)
    assert rec["record_id"] == "2"  # no id column: the row number


def test_bad_check_digit_ignored_but_row_links() -> None:
    result = _norm(
        _raw(
            personnummer=["080121-2243"],
            first_name=["Noah"],
            last_name=["Lindqvist"],
            birth_date=["2008-01-21"],
        )
    )
    assert result.records.height == 1
    assert result.records["pnr"][0] is None
    assert _rejects(result) == [(2, "personnummer", "pnr_checksum", "field_ignored")]


def test_row_rejected_when_nothing_links() -> None:
    result = _norm(
        _raw(
            personnummer=["080121-2243", None, None],
            first_name=["Noah", "Anna", None],
            birth_date=[None, "2010-02-30", "2010-01-01"],
        )
    )
    assert result.records.height == 0
    assert sorted(_rejects(result), key=str) == sorted(
        [
            (2, "personnummer", "pnr_checksum", "field_ignored"),
            (2, None, "no_linkable_fields", "row_rejected"),
            (3, "birth_date", "date_invalid", "field_ignored"),
            (3, None, "no_linkable_fields", "row_rejected"),
            (4, None, "no_linkable_fields", "row_rejected"),
        ],
        key=str,
    )


def test_a_full_name_alone_is_kept_with_a_warning() -> None:
    """A police extract without birth dates: rows with a given name and a surname are kept (the
    model links them only on strong name evidence) and counted as name_only; half a name is not
    enough."""
    result = _norm(
        _raw(
            personnummer=[None, None, None],
            first_name=["Noah", "Anna", None],
            last_name=["Lindqvist", None, "Berg"],
        )
    )
    assert result.records["record_id"].to_list() == ["2"]
    assert sorted(_rejects(result), key=str) == sorted(
        [
            (2, None, "name_only", "warning"),
            (3, None, "no_linkable_fields", "row_rejected"),
            (4, None, "no_linkable_fields", "row_rejected"),
        ],
        key=str,
    )


def test_birth_date_mismatch_keeps_column() -> None:
    result = _norm(_raw(personnummer=["080121-2242"], birth_date=["2008-01-22"]))
    assert result.records["birth_date"][0] == dt.date(2008, 1, 22)
    assert _rejects(result) == [(2, "birth_date", "birth_date_mismatch", "warning")]


def test_leading_zero_warning() -> None:
    result = _norm(_raw(personnummer=["801212242"]))
    assert result.records["pnr"][0] == "200801212242"
    assert _rejects(result) == [(2, "personnummer", "pnr_leading_zero_dropped", "warning")]


def test_future_birth_date() -> None:
    result = _norm(_raw(first_name=["Anna"], birth_date=["2030-01-01"]))
    assert ("birth_date", "date_future") in result.rejects.select("column", "reason").rows()


@pytest.mark.parametrize(
    ("full", "given", "surnames"),
    [
        ("Berg, Anna Maria", ["anna", "maria"], ["berg"]),
        ("Anna Maria Berg", ["anna", "maria"], ["berg"]),
        ("Lindberg Andersson, Per", ["per"], ["lindberg", "andersson"]),
        ("Mohammed", ["mohammed"], []),
    ],
)
def test_full_name_split(full: str, given: list[str], surnames: list[str]) -> None:
    result = _norm(_raw(full_name=[full], birth_date=["2010-01-01"]))
    rec = result.records.row(0, named=True)
    assert (rec["given_names"], rec["surnames"]) == (given, surnames)


def test_formula_and_huge_cells_ignored() -> None:
    result = _norm(
        _raw(
            personnummer=["=HYPERLINK(1)", "080121-2242"],
            first_name=["=cmd|' /C calc'!A0", "A" * 10_000],
            last_name=["Berg", "@SUM(1)"],
            birth_date=["2010-01-01", "2008-01-21"],
            record_id=["+1", "ok"],
        )
    )
    got = set(result.rejects.select("row", "column", "reason").rows())
    assert {
        (2, "personnummer", "cell_formula"),
        (2, "first_name", "cell_formula"),
        (2, "record_id", "cell_formula"),
        (3, "first_name", "cell_too_long"),
        (3, "last_name", "cell_formula"),
    } <= got
    assert result.records.filter(pl.col("row") == 2)["surnames"].to_list() == [["berg"]]


def test_headers_name_report_columns() -> None:
    result = normalise_export(
        _raw(personnummer=["x1"], first_name=["Anna"], birth_date=["2010-01-01"]),
        reference_date=REF,
        source="s.csv",
        headers={"personnummer": "Elevens pnr"},
    )
    assert result.rejects["column"].to_list() == ["Elevens pnr"]


# --- privacy: no value in any report or error ---------------------------------------------------

_marker_names = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=5, max_size=10).map(
    lambda s: "Xq" + s
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.one_of(valid_identity_numbers(), invalid_luhn_identity_numbers()),
            _marker_names,
            _marker_names,
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["ok", "ragged", "nul", "dup", "wrongsep", "formula", "baddate"]),
)
def test_reports_and_errors_never_contain_values(
    tmp_path: Path, people: list[tuple[str, str, str]], damage: str
) -> None:
    lines = ["Personnummer;Förnamn;Efternamn;Födelsedatum"]
    for pnr, first, last in people:
        birth = {"baddate": pnr[:8] + "99", "formula": "=" + pnr}.get(damage, "")
        name = "=" + first if damage == "formula" else first
        lines.append(f"{pnr[2:]};{name};{last};{birth}")
    if damage == "ragged":
        lines[1] += f";{people[0][0]};{people[0][1]}"
    if damage == "nul":
        lines[-1] = lines[-1][:5] + "\x00" + lines[-1][5:]
    if damage == "dup":
        lines[0] = "Personnummer;Förnamn;Personnummer;Födelsedatum"
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    secrets = {p for p, _, _ in people} | {p[2:] for p, _, _ in people}
    secrets |= {f for _, f, _ in people} | {s for _, _, s in people}
    outputs: list[str] = []
    try:
        export = read_export(path, separator="," if damage == "wrongsep" else None)
        result = normalise_export(export.frame, reference_date=REF, source=path.name)
        report = tmp_path / "rejects.csv"
        write_rejects(pl.concat([export.rejects, result.rejects]), report)
        outputs.append(report.read_text(encoding="utf-8"))
    except MatcherError as exc:
        outputs.append(str(exc))
        outputs.append(repr(vars(exc)))
    for text in outputs:
        for secret in secrets:
            assert secret not in text


def test_empty_frame_keeps_schema() -> None:
    result = _norm(pl.DataFrame(schema={"personnummer": pl.String, "row": pl.Int64}))
    assert result.records.height == 0
    assert dict(result.records.schema) == RECORDS_SCHEMA


@given(st.lists(st.one_of(st.none(), st.sampled_from(["Åsa", "Per", "", "ÅSA"])), max_size=30))
def test_distinct_values_path_equals_row_by_row(values: list[str | None]) -> None:
    series = pl.Series("v", values, dtype=pl.String)

    def build(v: pl.Series) -> pl.DataFrame:
        return v.to_frame().select(pl.col("v").str.to_lowercase(), n=pl.col("v").str.len_chars())

    assert_frame_equal(normalise._on_unique(series, build), build(series))


def test_hash_collision_falls_back_to_join(monkeypatch: pytest.MonkeyPatch) -> None:
    series = pl.Series("v", ["Åsa", "Per", "Åsa", None, "Per", "Åsa"] * 4, dtype=pl.String)
    collide = pl.Series(np.zeros(series.len(), np.uint64))
    monkeypatch.setattr(pl.Series, "hash", lambda self, *args, **kwargs: collide)
    assert normalise._distinct(series, 3) is None

    def build(v: pl.Series) -> pl.DataFrame:
        return v.to_frame().select(pl.col("v").str.to_uppercase())

    assert_frame_equal(normalise._on_unique(series, build), build(series))
