"""Swedish personnummer and samordningsnummer: every written form to one canonical 12-digit form.

Two implementations with one contract: `parse_identity_number` (scalar, plain Python, the readable
reference) and `parse_identity_numbers` (polars expressions, for millions of rows). Tests check
that they agree on random inputs.

Rules (see /work/shared/research/domain.md §1):

- Cleaning: NFKC (full-width digits, NBSP), every dash (en dash, minus sign, ...) becomes ``-``,
  all whitespace removed, leading apostrophes (Excel's text marker) dropped.
- A cell starting with ``=``, ``+`` or ``@`` is a spreadsheet formula: `Reason.CELL_FORMULA`.
- Accepted shapes: ``YYMMDDNNNC``, ``YYMMDD-NNNC``, ``YYMMDD+NNNC``, ``YYYYMMDDNNNC``,
  ``YYYYMMDD-NNNC`` (``+`` too). The check digit is Luhn over the 10-digit form, never corrected.
- Century of a 10-digit number: the latest year ending in YY whose date is not after the round's
  ``reference_date`` (never today's date); ``+`` means 100 years more. matcher's lists are about
  children, so a 10-digit number with ``+`` is a data error (`Reason.PNR_PLUS_ON_CHILD`, number not
  used). A 12-digit number with ``+`` that says the person is under 100 keeps its explicit century
  and is flagged with the same reason as a warning.
- Day 61–91 is a samordningsnummer (day + 60); the canonical form keeps the +60 day.
- 12-digit numbers whose century is not 18/19/20 (e.g. Stockholm reserve numbers ``99…``, the
  ``16`` prefix of organisationsnummer), numbers whose month's first digit is 2 or more
  (organisationsnummer) and values mixing digits with letters (reserve and TF numbers) are
  `Reason.PNR_NOT_NATIONAL`: never taken for a personnummer.
- Nine digits: a spreadsheet read the column as numbers and dropped the leading zero of a child born
  2000–2009. Decision: the zero is restored only when the restored number is a real date, not in
  the future and passes its check digit; it is then used and reported as a *warning*
  (`Reason.PNR_LEADING_ZERO_DROPPED`). Otherwise it is not used (same reason). A check digit catches
  9 of 10 accidental restorations, and the row still links through names and birth date.
- Decimals or scientific notation (``2.00501E+11``, ``200501011234.0``) are
  `Reason.PNR_FLOAT_FORMAT`: digits may have been lost, so they are never used.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from matcher.rejects import Reason

__all__ = [
    "IDENTITY_COLUMNS",
    "KIND_PERSONNUMMER",
    "KIND_SAMORDNINGSNUMMER",
    "ParsedId",
    "luhn_check_digit",
    "luhn_check_digits",
    "parse_identity_number",
    "parse_identity_numbers",
]

KIND_PERSONNUMMER = "personnummer"
KIND_SAMORDNINGSNUMMER = "samordningsnummer"

#: Columns of the frame `parse_identity_numbers` returns.
IDENTITY_COLUMNS: tuple[str, ...] = ("pnr", "pnr_kind", "pnr_birth_date", "pnr_reason")

# Characters treated as whitespace (removed) and as dashes (made "-"). Listed explicitly so that
# Python's `re` and polars' Rust regex agree exactly.
WHITESPACE = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
)
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
APOSTROPHES = "'\u2018\u2019\u02bc`\u00b4"

_WS_RE = f"[{WHITESPACE}]"
_DASH_RE = f"[{DASHES}]"
_LEAD_APOS_RE = f"^[{APOSTROPHES}]+"
_NON_ASCII_RE = r"[^\x00-\x7f]"
_ASCII_WS_RE = "[" + "".join(ch for ch in WHITESPACE if ch.isascii()) + "]"
_ASCII_LEAD_APOS_RE = "^[" + "".join(ch for ch in APOSTROPHES if ch.isascii()) + "]+"
_SHAPE_RE = r"^([0-9]{2})?([0-9]{6})([-+]?)([0-9]{4})$"
_NINE_RE = r"^[0-9]{9}$"
_FLOAT_RE = r"^[0-9]+(?:[.,][0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)$"
_OTHER_RE = r"[^0-9+\-.,:/]"
_DIGIT_RE = r"[0-9]"

_NATIONAL_CENTURIES = (18, 19, 20)


@dataclass(frozen=True, slots=True)
class ParsedId:
    """A valid national identity number: canonical 12 digits, its kind and birth date.

    ``warning`` is set when the number is used but deserves a note in the rejects report.
    """

    value: str
    kind: str
    birth_date: date
    warning: Reason | None = None


def luhn_check_digit(nine_digits: str) -> int:
    """The Luhn check digit of the nine digits YYMMDDNNN (weights 2,1,2,…; digits of products)."""
    total = 0
    for i, ch in enumerate(nine_digits):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10


_DOUBLED_DIGIT_SUM = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint8)


def luhn_check_digits(digits: np.ndarray) -> np.ndarray:
    """Vectorised `luhn_check_digit`: rows of nine digits YYMMDDNNN, shape (n, 9), values 0-9."""
    d = np.asarray(digits, dtype=np.uint8)
    total = _DOUBLED_DIGIT_SUM[d[:, 0::2]].sum(axis=1, dtype=np.int32)
    total += d[:, 1::2].sum(axis=1, dtype=np.int32)
    return ((10 - total % 10) % 10).astype(np.uint8)


def _clean(text: str) -> str:
    """NFKC, dashes to '-', whitespace removed, leading apostrophes dropped."""
    s = unicodedata.normalize("NFKC", text)
    s = re.sub(_DASH_RE, "-", s)
    s = re.sub(_WS_RE, "", s)
    return re.sub(_LEAD_APOS_RE, "", s)


def _valid_date(year: int, month: int, day: int) -> date | None:
    """The date if it exists in the calendar, else None."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_identity_number(text: str | None, reference_date: date) -> ParsedId | Reason | None:
    """Parse one written personnummer/samordningsnummer.

    Returns a `ParsedId` when the number is valid, the `Reason` it cannot be used otherwise, and
    None when the cell is empty. ``reference_date`` (the round's date) fixes the century.
    """
    if text is None:
        return None
    s = _clean(text)
    if not s:
        return None
    if s[0] in "=+@":
        return Reason.CELL_FORMULA
    nine = re.fullmatch(_NINE_RE, s) is not None
    m = re.fullmatch(_SHAPE_RE, "0" + s if nine else s)
    if m is None:
        if re.fullmatch(_FLOAT_RE, s):
            return Reason.PNR_FLOAT_FORMAT
        if re.search(_DIGIT_RE, s) and re.search(_OTHER_RE, s):
            return Reason.PNR_NOT_NATIONAL
        return Reason.PNR_MALFORMED
    century_s, ymd, sep, tail = m.groups()
    d10 = ymd + tail
    failure = Reason.PNR_LEADING_ZERO_DROPPED if nine else None
    if century_s is not None and int(century_s) not in _NATIONAL_CENTURIES:
        return failure or Reason.PNR_NOT_NATIONAL
    if int(d10[2]) >= 2:
        return failure or Reason.PNR_NOT_NATIONAL
    yy, month, raw_day = int(d10[0:2]), int(d10[2:4]), int(d10[4:6])
    snr = 61 <= raw_day <= 91
    day = raw_day - 60 if snr else raw_day
    ref = reference_date
    if century_s is not None:
        year = int(century_s) * 100 + yy
    else:
        year = ref.year - (ref.year - yy) % 100
        if year == ref.year and (month, day) > (ref.month, ref.day):
            year -= 100
        if sep == "+":
            year -= 100
    born = _valid_date(year, month, day) if 1 <= day <= 31 else None
    if born is None:
        return failure or Reason.PNR_INVALID_DATE
    if luhn_check_digit(d10[:9]) != int(d10[9]):
        return failure or Reason.PNR_CHECKSUM
    if born > ref:
        return failure or Reason.PNR_FUTURE_DATE
    warning: Reason | None = Reason.PNR_LEADING_ZERO_DROPPED if nine else None
    if sep == "+":
        if century_s is None:
            return Reason.PNR_PLUS_ON_CHILD
        if (year + 100, month, day) > (ref.year, ref.month, ref.day):
            warning = Reason.PNR_PLUS_ON_CHILD
    kind = KIND_SAMORDNINGSNUMMER if snr else KIND_PERSONNUMMER
    return ParsedId(f"{year:04d}{d10[2:]}", kind, born, warning)


def parse_identity_numbers(values: pl.Series, reference_date: date) -> pl.DataFrame:
    """Vectorised `parse_identity_number` over a string column, in polars expressions.

    Returns a frame aligned with ``values`` with columns ``pnr`` (canonical, only when usable),
    ``pnr_kind``, ``pnr_birth_date`` and ``pnr_reason`` (set for failures and for warnings; a
    warning is a reason on a row whose ``pnr`` is not null).
    """
    ref = reference_date
    ref_key = ref.year * 10_000 + ref.month * 100 + ref.day
    c = pl.col
    raw = values.cast(pl.String)
    frame = pl.LazyFrame({"raw": raw})
    if raw.str.contains(_NON_ASCII_RE).any():
        s = (
            c("raw")
            .str.normalize("NFKC")
            .str.replace_all(_DASH_RE, "-")
            .str.replace_all(_WS_RE, "")
            .str.replace(_LEAD_APOS_RE, "")
        )
    else:  # the same cleaning for ASCII-only text: NFKC is the identity, no dash is ASCII
        s = c("raw").str.replace_all(_ASCII_WS_RE, "").str.replace(_ASCII_LEAD_APOS_RE, "")
    frame = frame.with_columns(s=s).with_columns(
        nine=c("s").str.contains(_NINE_RE),
    )
    shaped = pl.when(c("nine")).then(pl.lit("0") + c("s")).otherwise(c("s"))
    groups = shaped.str.extract_groups(_SHAPE_RE)
    frame = frame.with_columns(
        g=groups,
        empty=c("s").is_null() | (c("s").str.len_chars() == 0),
    ).with_columns(
        matched=c("g").struct.field("4").is_not_null(),
        century=c("g").struct.field("1").cast(pl.Int32),
        sep=c("g").struct.field("3"),
        d10=c("g").struct.field("2") + c("g").struct.field("4"),
    )
    d10 = c("d10")
    n = d10.cast(pl.Int64)

    def digit(i: int) -> pl.Expr:
        return (n // (10 ** (9 - i))) % 10

    def doubled(i: int) -> pl.Expr:
        d = digit(i) * 2
        return pl.when(d > 9).then(d - 9).otherwise(d)

    luhn_sum = sum((doubled(i) if i % 2 == 0 else digit(i)) for i in range(9))
    luhn_ok = (10 - luhn_sum % 10) % 10 == digit(9)
    frame = frame.with_columns(
        yy=d10.str.slice(0, 2).cast(pl.Int32),
        month=d10.str.slice(2, 2).cast(pl.Int32),
        raw_day=d10.str.slice(4, 2).cast(pl.Int32),
        luhn_ok=luhn_ok,
    ).with_columns(
        snr=(c("raw_day") >= 61) & (c("raw_day") <= 91),
    )
    frame = frame.with_columns(
        day=pl.when(c("snr")).then(c("raw_day") - 60).otherwise(c("raw_day")),
    )
    cand = pl.lit(ref.year) - (pl.lit(ref.year) - c("yy")) % 100
    md_after = c("month") * 100 + c("day") > ref.month * 100 + ref.day
    cand = pl.when((cand == ref.year) & md_after).then(cand - 100).otherwise(cand)
    cand = pl.when(c("sep") == "+").then(cand - 100).otherwise(cand)
    year = pl.when(c("century").is_not_null()).then(c("century") * 100 + c("yy")).otherwise(cand)
    frame = (
        frame.with_columns(year=year)
        .with_columns(
            born_key=c("year") * 10_000 + c("month") * 100 + c("day"),
        )
        .with_columns(
            # year >= 0, month < 100 and day <= 31, so the key's 8 digits are exactly YYYYMMDD
            born=pl.when((c("day") >= 1) & (c("day") <= 31))
            .then(c("born_key").cast(pl.String).str.zfill(8).str.to_date("%Y%m%d", strict=False))
            .otherwise(None),
        )
    )
    not_national = (c("century").is_not_null() & ~c("century").is_in(_NATIONAL_CENTURIES)) | (
        d10.str.slice(2, 1).cast(pl.Int32) >= 2
    )
    base_reason = (
        pl.when(c("empty"))
        .then(None)
        .when(c("s").str.slice(0, 1).is_in(["=", "+", "@"]))
        .then(pl.lit(Reason.CELL_FORMULA.value))
        .when(~c("matched") & c("s").str.contains(_FLOAT_RE))
        .then(pl.lit(Reason.PNR_FLOAT_FORMAT.value))
        .when(~c("matched") & c("s").str.contains(_DIGIT_RE) & c("s").str.contains(_OTHER_RE))
        .then(pl.lit(Reason.PNR_NOT_NATIONAL.value))
        .when(~c("matched"))
        .then(pl.lit(Reason.PNR_MALFORMED.value))
        .when(not_national)
        .then(pl.lit(Reason.PNR_NOT_NATIONAL.value))
        .when(c("born").is_null())
        .then(pl.lit(Reason.PNR_INVALID_DATE.value))
        .when(~c("luhn_ok"))
        .then(pl.lit(Reason.PNR_CHECKSUM.value))
        .when(c("born_key") > ref_key)
        .then(pl.lit(Reason.PNR_FUTURE_DATE.value))
        .when((c("sep") == "+") & c("century").is_null())
        .then(pl.lit(Reason.PNR_PLUS_ON_CHILD.value))
        .otherwise(None)
    )
    frame = frame.with_columns(base_reason=base_reason).with_columns(
        usable=~c("empty") & c("base_reason").is_null()
    )
    plus_warn = (
        (c("sep") == "+") & c("century").is_not_null() & (c("born_key") + 1_000_000 > ref_key)
    )
    reason = (
        pl.when(c("nine"))
        .then(pl.lit(Reason.PNR_LEADING_ZERO_DROPPED.value))
        .when(c("usable") & plus_warn)
        .then(pl.lit(Reason.PNR_PLUS_ON_CHILD.value))
        .otherwise(c("base_reason"))
    )
    out = frame.select(
        pnr=pl.when(c("usable"))
        .then(c("year").cast(pl.String).str.zfill(4) + d10.str.slice(2))
        .otherwise(None),
        pnr_kind=pl.when(c("usable"))
        .then(
            pl.when(c("snr"))
            .then(pl.lit(KIND_SAMORDNINGSNUMMER))
            .otherwise(pl.lit(KIND_PERSONNUMMER))
        )
        .otherwise(None),
        pnr_birth_date=pl.when(c("usable")).then(c("born")).otherwise(None),
        pnr_reason=reason,
    )
    return out.collect()
