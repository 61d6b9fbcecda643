"""Personnummer/samordningsnummer parsing: canonical form, reasons, scalar == vectorised."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from matcher.steward.identifiers import (
    KIND_PERSONNUMMER,
    KIND_SAMORDNINGSNUMMER,
    ParsedId,
    luhn_check_digit,
    luhn_check_digits,
    parse_identity_number,
    parse_identity_numbers,
)
from matcher.steward.rejects import Reason
from tests.strategies import (
    REFERENCE_DATE,
    invalid_luhn_identity_numbers,
    valid_identity_numbers,
    written_forms,
    written_identity_numbers,
)

REF = REFERENCE_DATE


def _mk(nine: str) -> str:
    return nine + str(luhn_check_digit(nine))


def test_luhn_worked_example() -> None:
    # personnummer.info: 640823-323 -> check digit 4
    assert luhn_check_digit("640823323") == 4


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("640823-3234", "196408233234"),
        ("6408233234", "196408233234"),
        ("19640823-3234", "196408233234"),
        ("196408233234", "196408233234"),
        (" 640823 - 3234\u00a0", "196408233234"),
        ("640823\u20133234", "196408233234"),
        ("'640823-3234", "196408233234"),
        ("６４０８２３３２３４", "196408233234"),
    ],
)
def test_written_forms(text: str, value: str) -> None:
    parsed = parse_identity_number(text, REF)
    assert isinstance(parsed, ParsedId)
    assert parsed.value == value
    assert parsed.kind == KIND_PERSONNUMMER
    assert parsed.birth_date == date(1964, 8, 23)
    assert parsed.warning is None


def test_samordningsnummer_day_plus_60() -> None:
    parsed = parse_identity_number("701063-2391", REF)
    assert isinstance(parsed, ParsedId)
    assert parsed.kind == KIND_SAMORDNINGSNUMMER
    assert parsed.value == "197010632391"
    assert parsed.birth_date == date(1970, 10, 3)


def test_century_from_reference_date_not_today() -> None:
    number = _mk("150101123")
    assert parse_identity_number(number, date(2026, 1, 1)).value.startswith("2015")  # type: ignore[union-attr]
    assert parse_identity_number(number, date(2014, 1, 1)).value.startswith("1915")  # type: ignore[union-attr]
    # born later in the reference year than the reference day: the previous century
    later = _mk("261231123")
    assert parse_identity_number(later, date(2026, 11, 1)).value.startswith("1926")  # type: ignore[union-attr]


def test_plus_on_child_ten_digits_is_data_error() -> None:
    number = _mk("120101123")
    assert parse_identity_number(f"{number[:6]}+{number[6:]}", REF) is Reason.PNR_PLUS_ON_CHILD


def test_plus_with_explicit_century_keeps_century_and_warns() -> None:
    number = _mk("120101123")
    parsed = parse_identity_number(f"20{number[:6]}+{number[6:]}", REF)
    assert isinstance(parsed, ParsedId)
    assert parsed.value == "20" + number
    assert parsed.warning is Reason.PNR_PLUS_ON_CHILD


def test_leading_zero_restored_with_warning() -> None:
    number = _mk("050101123")
    parsed = parse_identity_number(number[1:], REF)
    assert isinstance(parsed, ParsedId)
    assert parsed.value == "20" + number
    assert parsed.warning is Reason.PNR_LEADING_ZERO_DROPPED


def test_leading_zero_not_restored_when_check_fails() -> None:
    number = _mk("050101123")
    bad = number[1:-1] + str((int(number[-1]) + 1) % 10)
    assert parse_identity_number(bad, REF) is Reason.PNR_LEADING_ZERO_DROPPED


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("=A1+B1", Reason.CELL_FORMULA),
        ("@SUM(A1)", Reason.CELL_FORMULA),
        ("+46701234567", Reason.CELL_FORMULA),
        ("Anna Andersson", Reason.PNR_MALFORMED),
        ("12345", Reason.PNR_MALFORMED),
        ("19640823-32345", Reason.PNR_MALFORMED),
        ("2.00501E+11", Reason.PNR_FLOAT_FORMAT),
        ("200501011234.0", Reason.PNR_FLOAT_FORMAT),
        ("20080101-TF12", Reason.PNR_NOT_NATIONAL),
        ("20080101K123", Reason.PNR_NOT_NATIONAL),
        ("556016-0680", Reason.PNR_NOT_NATIONAL),  # organisationsnummer (IKEA-style)
        ("165560160680", Reason.PNR_NOT_NATIONAL),
        ("991301-1234", Reason.PNR_INVALID_DATE),
        ("19640230-0000", Reason.PNR_INVALID_DATE),
        ("640800-0000", Reason.PNR_INVALID_DATE),
        ("640823-3235", Reason.PNR_CHECKSUM),
    ],
)
def test_reasons(text: str, reason: Reason) -> None:
    assert parse_identity_number(text, REF) is reason


def test_stockholm_reserve_number_not_national() -> None:
    assert parse_identity_number("99" + _mk("202612345"), REF) is Reason.PNR_NOT_NATIONAL


def test_future_date() -> None:
    assert parse_identity_number("20" + _mk("270101123"), REF) is Reason.PNR_FUTURE_DATE


def test_empty_is_missing() -> None:
    assert parse_identity_number(None, REF) is None
    assert parse_identity_number("  \u00a0", REF) is None
    frame = parse_identity_numbers(pl.Series([None, " "], dtype=pl.String), REF)
    assert frame.null_count().row(0) == (2, 2, 2, 2)


@given(written_identity_numbers())
def test_every_written_form_normalises_to_canonical(pair: tuple[str, str]) -> None:
    canonical, written = pair
    parsed = parse_identity_number(written, REF)
    assert isinstance(parsed, ParsedId)
    assert parsed.value == canonical
    assert parsed.warning is None


@given(valid_identity_numbers())
def test_all_forms_vectorised_agree(canonical: str) -> None:
    forms = written_forms(canonical)
    frame = parse_identity_numbers(pl.Series(forms), REF)
    assert frame["pnr"].to_list() == [canonical] * len(forms)


@given(valid_identity_numbers())
def test_idempotent(canonical: str) -> None:
    once = parse_identity_number(canonical, REF)
    assert isinstance(once, ParsedId)
    twice = parse_identity_number(once.value, REF)
    assert twice == once


@given(invalid_luhn_identity_numbers(), st.booleans())
def test_invalid_luhn_never_accepted(number: str, short: bool) -> None:
    text = number[2:] if short else number
    assert not isinstance(parse_identity_number(text, REF), ParsedId)
    assert parse_identity_numbers(pl.Series([text]), REF)["pnr"][0] is None


def _as_row(result: ParsedId | Reason | None) -> tuple[object, ...]:
    if result is None:
        return (None, None, None, None)
    if isinstance(result, Reason):
        return (None, None, None, result.value)
    warning = None if result.warning is None else result.warning.value
    return (result.value, result.kind, result.birth_date, warning)


_noisy = st.text(alphabet="0123456789-+ '.eE,=@TFK\u2013\u00a0０", max_size=16)


@given(
    st.lists(
        st.one_of(
            _noisy,
            valid_identity_numbers().map(lambda c: c[2:]),
            valid_identity_numbers().map(lambda c: c[3:]),
            valid_identity_numbers().map(lambda c: f"{c[2:8]}+{c[8:]}"),
            valid_identity_numbers().map(lambda c: f"{c[:8]}+{c[8:]}"),
            invalid_luhn_identity_numbers(),
            st.none(),
        ),
        max_size=30,
    ),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)),
)
@example(["0229000000", "000229+0000"], date(2000, 1, 1))
def test_vectorised_equals_scalar(values: list[str | None], ref: date) -> None:
    frame = parse_identity_numbers(pl.Series(values, dtype=pl.String), ref)
    assert list(frame.iter_rows()) == [_as_row(parse_identity_number(v, ref)) for v in values]


@given(st.lists(st.text("0123456789", min_size=9, max_size=9), min_size=1, max_size=20))
def test_vectorised_luhn_equals_scalar(nines: list[str]) -> None:
    digits = np.array([[int(c) for c in nine] for nine in nines])
    assert luhn_check_digits(digits).tolist() == [luhn_check_digit(n) for n in nines]
