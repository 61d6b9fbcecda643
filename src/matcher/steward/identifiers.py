"""Swedish personnummer and samordningsnummer: every written form to one canonical 12-digit form.

Two implementations with one contract: `parse_identity_number` (scalar, plain Python, the readable
reference) and `parse_identity_numbers` (a Numba kernel, for millions of rows). Tests check
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
import pyarrow as pa

from matcher._arrow import utf8_buffers
from matcher.kernels import normalise as _K
from matcher.steward.rejects import Reason

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
_SHAPE_RE = r"^([0-9]{2})?([0-9]{6})([-+]?)([0-9]{4})$"
_NINE_RE = r"^[0-9]{9}$"
_FLOAT_RE = r"^[0-9]+(?:[.,][0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)$"
_OTHER_RE = r"[^0-9+\-.,:/]"
_DIGIT_RE = r"[0-9]"

_NATIONAL_CENTURIES = (18, 19, 20)

# Labels of the kernel's kind and reason codes (code 0: null).
_KIND_LABELS = pl.Series([None, KIND_PERSONNUMMER, KIND_SAMORDNINGSNUMMER], dtype=pl.String)
_REASON_LABELS = pl.Series([None, *(r.value for r in _K.REASONS)], dtype=pl.String)


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
    return parse_cleaned_identity_number(_clean(text), reference_date)


def parse_cleaned_identity_number(s: str, reference_date: date) -> ParsedId | Reason | None:
    """`parse_identity_number` of a value already cleaned (NFKC, dashes, spaces, apostrophes)."""
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
    """Vectorised `parse_identity_number` over a string column (a Numba kernel, one pass).

    Returns a frame aligned with ``values`` with columns ``pnr`` (canonical, only when usable),
    ``pnr_kind``, ``pnr_birth_date`` and ``pnr_reason`` (set for failures and for warnings; a
    warning is a reason on a row whose ``pnr`` is not null).
    """
    raw = values.cast(pl.String)
    data, offsets = utf8_buffers(raw)
    if (data >= 0x80).any():
        # Unicode cleaning in polars; the kernel does the rest (for ASCII text it is the same)
        cleaned = raw.to_frame("s").select(
            pl.col("s")
            .str.normalize("NFKC")
            .str.replace_all(_DASH_RE, "-")
            .str.replace_all(_WS_RE, "")
            .str.replace(_LEAD_APOS_RE, "")
        )
        data, offsets = utf8_buffers(cleaned.to_series())
    n = len(raw)
    pnr = np.empty(n * _K.PNR_BYTES, np.uint8)
    pnr_offsets = np.empty(n + 1, np.int64)
    birth_days = np.empty(n, np.int32)
    kinds = np.empty(n, np.uint8)
    reasons = np.empty(n, np.uint8)
    ref = reference_date
    _K.parse_ids(
        data, offsets, ref.year, ref.month, ref.day, pnr, pnr_offsets, birth_days, kinds, reasons
    )
    validity = pa.py_buffer(np.packbits(kinds != 0, bitorder="little"))
    pnr_arrow = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(pnr_offsets), pa.py_buffer(pnr), validity
    )
    born_arrow = pa.Array.from_buffers(pa.date32(), n, [validity, pa.py_buffer(birth_days)])
    return pl.DataFrame(
        {
            "pnr": pl.Series(pnr_arrow),
            "pnr_kind": _KIND_LABELS.gather(kinds),
            "pnr_birth_date": pl.Series(born_arrow),
            "pnr_reason": _REASON_LABELS.gather(reasons),
        }
    )
