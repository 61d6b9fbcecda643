"""Reject reasons and the rejects report: where a row or field was unusable and why, not the value.

Every reason is a short stable code (a `Reason` member) with a one-line explanation for stewards.
The report is a polars frame with columns ``file``, ``row``, ``column``, ``reason``, ``action``.
``action`` says what happened:

- ``row_rejected``: the row cannot link at all and is left out;
- ``field_ignored``: only this field was dropped, the row still links through the other fields;
- ``warning``: the value was used, but something about it deserves a look (e.g. a leading zero
  restored, a birth date that disagrees with the personnummer).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import polars as pl

__all__ = [
    "ACTIONS",
    "REJECTS_SCHEMA",
    "Action",
    "Reason",
    "empty_rejects",
    "explain",
    "rejects_summary",
    "write_rejects",
]


class Action(StrEnum):
    """What was done about a problem: the whole row, one field, or only a note."""

    ROW_REJECTED = "row_rejected"
    FIELD_IGNORED = "field_ignored"
    WARNING = "warning"


ACTIONS: tuple[str, ...] = tuple(a.value for a in Action)


class Reason(StrEnum):
    """Stable reason codes for rejected rows and ignored fields (see `explain`)."""

    # identity numbers
    PNR_MALFORMED = "pnr_malformed"
    PNR_CHECKSUM = "pnr_checksum"
    PNR_INVALID_DATE = "pnr_invalid_date"
    PNR_FUTURE_DATE = "pnr_future_date"
    PNR_PLUS_ON_CHILD = "pnr_plus_on_child"
    PNR_LEADING_ZERO_DROPPED = "pnr_leading_zero_dropped"
    PNR_NOT_NATIONAL = "pnr_not_national"
    PNR_FLOAT_FORMAT = "pnr_float_format"
    # dates
    DATE_INVALID = "date_invalid"
    DATE_FUTURE = "date_future"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"
    # any cell
    CELL_FORMULA = "cell_formula"
    CELL_TOO_LONG = "cell_too_long"
    # rows
    RAGGED_ROW = "ragged_row"
    NUL_BYTES = "nul_bytes"
    NO_LINKABLE_FIELDS = "no_linkable_fields"
    NAME_ONLY = "name_only"


_EXPLANATIONS: dict[Reason, str] = {
    Reason.PNR_MALFORMED: "not written as a personnummer or samordningsnummer (10 or 12 digits)",
    Reason.PNR_CHECKSUM: "the check digit (Luhn) fails; the number is not used, never corrected",
    Reason.PNR_INVALID_DATE: "the date part is not a real date (month 13, 30 Feb, day 00, ...)",
    Reason.PNR_FUTURE_DATE: "the date part lies after the round's reference date",
    Reason.PNR_PLUS_ON_CHILD: "a '+' (100 years or older) on a number in a list about children",
    Reason.PNR_LEADING_ZERO_DROPPED: (
        "9 digits: a spreadsheet dropped the leading zero (born 2000-2009); restored when the "
        "restored number is a valid date and passes its check digit"
    ),
    Reason.PNR_NOT_NATIONAL: (
        "a local or non-personal number (reserve number, TF number, letters, "
        "organisationsnummer), never used as a personnummer"
    ),
    Reason.PNR_FLOAT_FORMAT: (
        "written as a decimal or in scientific notation by a spreadsheet; digits may be lost"
    ),
    Reason.DATE_INVALID: "not a date in a recognised form (ISO, YYYYMMDD, YYMMDD, D/M/YYYY, ...)",
    Reason.DATE_FUTURE: "a birth date after the round's reference date",
    Reason.BIRTH_DATE_MISMATCH: (
        "the birth-date column disagrees with the personnummer; the column's date is kept"
    ),
    Reason.CELL_FORMULA: "a spreadsheet formula (starts with =, + or @); never evaluated",
    Reason.CELL_TOO_LONG: "the cell is longer than any real value of this field",
    Reason.RAGGED_ROW: "the row has more fields than the header, so its columns may be shifted",
    Reason.NUL_BYTES: "the row holds NUL bytes (a damaged or binary stretch in the file)",
    Reason.NO_LINKABLE_FIELDS: (
        "no valid identity number, and neither a name with a birth date nor a full name"
    ),
    Reason.NAME_ONLY: (
        "kept with a full name only (no valid identity number, no birth date): it links only "
        "where the names agree and are rare in the round"
    ),
}


def explain(reason: str) -> str:
    """The human explanation of a reason code (the code itself if unknown)."""
    try:
        return _EXPLANATIONS[Reason(reason)]
    except ValueError:
        return reason


REJECTS_SCHEMA: pl.Schema = pl.Schema(
    {
        "file": pl.String(),
        "row": pl.Int64(),
        "column": pl.String(),
        "reason": pl.String(),
        "action": pl.String(),
    }
)


def empty_rejects() -> pl.DataFrame:
    """A rejects frame with no rows and the report's schema."""
    return pl.DataFrame(schema=REJECTS_SCHEMA)


def rejects_summary(rejects: pl.DataFrame) -> pl.DataFrame:
    """Counts per (reason, action), largest first, for end-of-run summaries."""
    return (
        rejects.group_by("reason", "action")
        .len(name="count")
        .sort(["count", "reason"], descending=[True, False])
    )


def write_rejects(rejects: pl.DataFrame, path: str | Path) -> None:
    """Write the rejects report as UTF-8 CSV (with the schema's columns only, never a value)."""
    rejects.select(list(REJECTS_SCHEMA)).sort("row", "column", nulls_last=True).write_csv(path)
