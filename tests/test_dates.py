"""Date parsing: every accepted form, reasons, and scalar == vectorised."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.steward.dates import EXCEL_EPOCH, parse_date, parse_dates
from matcher.steward.rejects import Reason
from tests.strategies import REFERENCE_DATE

REF = REFERENCE_DATE


@pytest.mark.parametrize(
    "text",
    [
        "2008-01-05",
        "2008-1-5",
        "2008/01/05",
        "20080105",
        "080105",
        "5/1/2008",
        "05/01/2008",
        "5.1.2008",
        "05-01-2008",
        "39452",
        "39452.0",
        " 2008-01-05 00:00:00 ",
        "2008-01-05T10:30:00",
    ],
)
def test_accepted_forms(text: str) -> None:
    assert parse_date(text, REF) == date(2008, 1, 5)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2008-02-30", Reason.DATE_INVALID),
        ("31/04/2008", Reason.DATE_INVALID),
        ("13/13/2008", Reason.DATE_INVALID),
        ("hello", Reason.DATE_INVALID),
        ("12", Reason.DATE_INVALID),
        ("=TODAY()", Reason.CELL_FORMULA),
    ],
)
def test_reasons(text: str, reason: Reason) -> None:
    assert parse_date(text, REF) is reason


def test_future_only_when_latest_given() -> None:
    assert parse_date("2030-01-01", REF) == date(2030, 1, 1)
    assert parse_date("2030-01-01", REF, latest=REF) is Reason.DATE_FUTURE


def test_yymmdd_century_from_reference() -> None:
    assert parse_date("261231", date(2026, 11, 1)) == date(1926, 12, 31)
    assert parse_date("261031", date(2026, 11, 1)) == date(2026, 10, 31)


def _forms(d: date) -> list[str]:
    serial = (d - EXCEL_EPOCH).days
    forms = [d.isoformat(), d.strftime("%Y%m%d"), f"{d.day}/{d.month}/{d.year}", f"{d:%d.%m.%Y}"]
    if 10_000 <= serial <= 99_999:
        forms.append(str(serial))
    return forms


@given(st.dates(min_value=date(1930, 1, 1), max_value=REF))
def test_every_form_parses_to_the_date(d: date) -> None:
    forms = _forms(d)
    assert [parse_date(f, REF) for f in forms] == [d] * len(forms)
    assert parse_dates(pl.Series(forms), REF)["date"].to_list() == [d] * len(forms)
    if d > REF - timedelta(days=365 * 99):
        assert parse_date(d.strftime("%y%m%d"), REF) == d


_date_text = st.text(alphabet="0123456789-/. T:=", max_size=14)


@given(
    st.lists(st.one_of(_date_text, st.dates().map(str), st.none()), max_size=30),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 1, 1)),
    st.booleans(),
)
def test_vectorised_equals_scalar(values: list[str | None], ref: date, bounded: bool) -> None:
    latest = ref if bounded else None
    frame = parse_dates(pl.Series(values, dtype=pl.String), ref, latest=latest)
    expected = []
    for v in values:
        r = parse_date(v, ref, latest=latest)
        expected.append((None, r.value) if isinstance(r, Reason) else (r, None))
    assert list(frame.iter_rows()) == expected
