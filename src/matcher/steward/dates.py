"""Dates as agencies write them: ISO, YYYYMMDD, YYMMDD, D/M/YYYY, D.M.YYYY and Excel serial numbers.

`parse_date` is the scalar reference, `parse_dates` the vectorised polars form; tests check they
agree. Accepted forms, after NFKC and trimming (a time part after ``T`` or a space is ignored):

- ``YYYY-MM-DD`` (also ``/`` or ``.`` between, one-digit month and day allowed), ``YYYYMMDD``;
- ``YYMMDD``: the century is the latest one that puts the date on or before ``reference_date``;
- ``D/M/YYYY``, ``D.M.YYYY``, ``D-M-YYYY`` (day first, as written in Sweden; never month first);
- Excel serial numbers of exactly five digits (1927-05-18 to 2173-10-14), optionally with a
  fraction, counted from 1899-12-30 as Excel does. Real Excel date cells arrive as ISO text
  from `matcher.steward.exports`.

Anything else is `Reason.DATE_INVALID`; a cell starting with ``=``, ``+`` or ``@`` is
`Reason.CELL_FORMULA`; with ``latest`` given, a later date is `Reason.DATE_FUTURE`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import polars as pl

from matcher.steward.identifiers import WHITESPACE
from matcher.steward.rejects import Reason

__all__ = ["EXCEL_EPOCH", "parse_date", "parse_dates"]

#: Day zero of Excel's serial dates (the 1900 leap-year bug makes 1899-12-30, not 12-31).
EXCEL_EPOCH = date(1899, 12, 30)

_TIME = r"(?:[T ].*)?"
_ISO_RE = rf"^([0-9]{{4}})[-/.]([0-9]{{1,2}})[-/.]([0-9]{{1,2}}){_TIME}$"
_COMPACT8_RE = r"^([0-9]{4})([0-9]{2})([0-9]{2})$"
_COMPACT6_RE = r"^([0-9]{2})([0-9]{2})([0-9]{2})$"
_DMY_RE = rf"^([0-9]{{1,2}})[-/.]([0-9]{{1,2}})[-/.]([0-9]{{4}}){_TIME}$"
_SERIAL_RE = r"^([0-9]{5})(?:[.,][0-9]+)?$"
_STRIP_RE = f"^[{WHITESPACE}]+|[{WHITESPACE}]+$"


def _clean(text: str) -> str:
    """NFKC and trim (the same whitespace set as identity numbers)."""
    return re.sub(_STRIP_RE, "", unicodedata.normalize("NFKC", text))


def _century(yy: int, month: int, day: int, ref: date) -> int:
    """The full year for YY: the latest that puts (month, day) on or before ``ref``."""
    year = ref.year - (ref.year - yy) % 100
    if year == ref.year and (month, day) > (ref.month, ref.day):
        year -= 100
    return year


def parse_date(
    text: str | None, reference_date: date, *, latest: date | None = None
) -> date | Reason | None:
    """Parse one written date; a `Reason` when it cannot be used, None when the cell is empty."""
    if text is None:
        return None
    s = _clean(text)
    if not s:
        return None
    if s[0] in "=+@":
        return Reason.CELL_FORMULA
    if m := re.fullmatch(_SERIAL_RE, s):
        parsed: date | None = EXCEL_EPOCH + timedelta(days=int(m.group(1)))
    else:
        ymd: tuple[int, int, int] | None = None
        if m := re.fullmatch(_ISO_RE, s) or re.fullmatch(_COMPACT8_RE, s):
            ymd = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        elif m := re.fullmatch(_DMY_RE, s):
            ymd = (int(m.group(3)), int(m.group(2)), int(m.group(1)))
        elif m := re.fullmatch(_COMPACT6_RE, s):
            month, day = int(m.group(2)), int(m.group(3))
            ymd = (_century(int(m.group(1)), month, day, reference_date), month, day)
        try:
            parsed = None if ymd is None else date(*ymd)
        except ValueError:
            parsed = None
    if parsed is None:
        return Reason.DATE_INVALID
    if latest is not None and parsed > latest:
        return Reason.DATE_FUTURE
    return parsed


def parse_dates(
    values: pl.Series, reference_date: date, *, latest: date | None = None
) -> pl.DataFrame:
    """Vectorised `parse_date`: a frame aligned with ``values`` with ``date`` and ``reason``."""
    ref = reference_date
    c = pl.col
    frame = pl.LazyFrame({"raw": values.cast(pl.String)}).with_columns(
        s=c("raw").str.normalize("NFKC").str.replace_all(_STRIP_RE, "")
    )
    s = c("s")

    def group(pattern: str, i: int) -> pl.Expr:
        return s.str.extract(pattern, i).cast(pl.Int32)

    yy6, m6, d6 = (group(_COMPACT6_RE, i) for i in (1, 2, 3))
    year6 = pl.lit(ref.year) - (pl.lit(ref.year) - yy6) % 100
    year6 = (
        pl.when((year6 == ref.year) & (m6 * 100 + d6 > ref.month * 100 + ref.day))
        .then(year6 - 100)
        .otherwise(year6)
    )
    frame = frame.with_columns(
        y=pl.coalesce(group(_ISO_RE, 1), group(_COMPACT8_RE, 1), group(_DMY_RE, 3), year6),
        m=pl.coalesce(group(_ISO_RE, 2), group(_COMPACT8_RE, 2), group(_DMY_RE, 2), m6),
        d=pl.coalesce(group(_ISO_RE, 3), group(_COMPACT8_RE, 3), group(_DMY_RE, 1), d6),
        serial=s.str.extract(_SERIAL_RE, 1).cast(pl.Int64),
    )
    from_parts = pl.format(
        "{}{}{}",
        c("y").cast(pl.String).str.zfill(4),
        c("m").cast(pl.String).str.zfill(2),
        c("d").cast(pl.String).str.zfill(2),
    ).str.to_date("%Y%m%d", strict=False)
    from_serial = pl.lit(EXCEL_EPOCH) + pl.duration(days=c("serial"))
    frame = frame.with_columns(
        parsed=pl.when(c("serial").is_not_null()).then(from_serial).otherwise(from_parts),
        empty=s.is_null() | (s.str.len_chars() == 0),
    )
    reason = (
        pl.when(c("empty"))
        .then(None)
        .when(s.str.slice(0, 1).is_in(["=", "+", "@"]))
        .then(pl.lit(Reason.CELL_FORMULA.value))
        .when(c("parsed").is_null())
        .then(pl.lit(Reason.DATE_INVALID.value))
    )
    if latest is not None:
        reason = reason.when(c("parsed") > pl.lit(latest)).then(pl.lit(Reason.DATE_FUTURE.value))
    frame = frame.with_columns(reason=reason.otherwise(None))
    return frame.select(
        date=pl.when(c("reason").is_null()).then(c("parsed")).otherwise(None),
        reason=c("reason"),
    ).collect()
