"""Turn a read export (standard fields as text) into clean linkage records plus a rejects report.

The `records` frame is the contract the keyed hashing builds on (`RECORDS_SCHEMA`):

=============== ============== ====================================================================
column          type           meaning
=============== ============== ====================================================================
row             Int64          row number as the steward sees it (see `matcher.steward.exports`)
record_id       String         the agency's own id; the row number as text when the cell is empty
pnr             String | null  canonical 12 digits, only when valid
pnr_kind        String | null  "personnummer" or "samordningsnummer"
given_names     List[String]   normalised, å/ä/ö kept, order kept, may be empty
surnames        List[String]   surname parts, particles dropped, may be empty
birth_date      Date | null    the birth-date column, or the valid pnr's date when that is empty
signal          String | null  the category as written, trimmed
signal_date     Date | null
=============== ============== ====================================================================

Decisions: when the birth-date column and the personnummer disagree, the column's date is kept
(the number's date may be a "nearby day" or belong to an old number) and a
`Reason.BIRTH_DATE_MISMATCH` warning is reported. A full-name column is split as "Efternamn,
Förnamn" when it has a comma, else "Förnamn … Efternamn" (last word the surname; a single word is
taken as a given name). A row is rejected only when it cannot link at all: no valid identity number
and not (a given name or surname part and a birth date). Everything is polars expressions, but for
the identity numbers (a Numba kernel) and the numbering of distinct values (`_on_unique`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import cast

import numpy as np
import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from matcher.kernels.normalise import factorize
from matcher.steward.dates import parse_dates
from matcher.steward.identifiers import parse_identity_numbers
from matcher.steward.names import name_parts
from matcher.steward.rejects import REJECTS_SCHEMA, Action, Reason, empty_rejects

__all__ = ["MAX_CELL_CHARS", "RECORDS_SCHEMA", "NormalisedExport", "normalise_export"]

RECORDS_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "record_id": pl.String(),
    "pnr": pl.String(),
    "pnr_kind": pl.String(),
    "given_names": pl.List(pl.String()),
    "surnames": pl.List(pl.String()),
    "birth_date": pl.Date(),
    "signal": pl.String(),
    "signal_date": pl.Date(),
}

#: Longest accepted cell per field; longer cells are ignored (`Reason.CELL_TOO_LONG`).
MAX_CELL_CHARS: dict[str, int] = {
    "personnummer": 40,
    "first_name": 200,
    "last_name": 200,
    "full_name": 300,
    "birth_date": 40,
    "signal": 200,
    "signal_date": 40,
    "record_id": 100,
}

_TEXT_FIELDS = ("first_name", "last_name", "full_name", "signal", "record_id")
_FORMULA_STARTS = ("=", "+", "@")
_NAME_FIELDS = ("first_name", "last_name", "full_name")


@dataclass(frozen=True, slots=True)
class NormalisedExport:
    """Clean records (`RECORDS_SCHEMA`) and the rejects report for one export."""

    records: pl.DataFrame
    rejects: pl.DataFrame


def _reject_frame(
    frame: pl.DataFrame, reason_col: str, column: str | None, action: pl.Expr, source: str
) -> pl.DataFrame:
    """Rejects rows for every non-null reason in ``reason_col``."""
    return (
        frame.lazy()
        .filter(pl.col(reason_col).is_not_null())
        .select(
            file=pl.lit(source),
            row=pl.col("row"),
            column=pl.lit(column),
            reason=pl.col(reason_col),
            action=action,
        )
        .cast(REJECTS_SCHEMA)
        .collect()
    )


def _distinct(values: pl.Series, expected: int) -> tuple[pl.Series, np.ndarray] | None:
    """The distinct values (first occurrences, in order) and each row's index among them, or
    None when two different values share a 64-bit hash (then the caller takes the slow path)."""
    n = values.len()
    codes = np.empty(n, np.int64)
    firsts = np.empty(n, np.int64)
    valid = values.is_not_null().to_numpy()
    k = factorize(values.hash().to_numpy(), valid, codes, firsts, expected)
    distinct = values.gather(firsts[:k])
    if not values.eq_missing(distinct.gather(codes)).all():
        return None
    return distinct, codes


def _on_unique(values: pl.Series, build: Callable[[pl.Series], pl.DataFrame]) -> pl.DataFrame:
    """Apply ``build`` to the distinct values only and spread the result back (names and dates
    repeat a lot, so this does the expensive string work once per distinct value)."""
    # A HyperLogLog estimate decides (0.01 s on 1M mostly-distinct identity numbers, where
    # numbering values that are then thrown away costs more); either way the result is the same.
    n = values.len()
    expected = cast(int, values.approx_n_unique()) if n else 0
    if n == 0 or expected * 2 > n:
        return build(values)
    # Numbering rows by polars' value hash in one Numba pass, checked, is 2-3x faster than a
    # polars unique + join back.
    numbered = _distinct(values, expected)
    if numbered is not None:
        distinct, codes = numbered
        return build(distinct)[codes]
    distinct = values.unique()
    table = build(distinct).with_columns(distinct.alias("__key"))
    keys = pl.DataFrame({"__key": values})
    joined = keys.join(table, on="__key", how="left", nulls_equal=True, maintain_order="left")
    return joined.drop("__key")


def _clean_signal(values: pl.Series) -> pl.DataFrame:
    """A signal category as written: NFC, whitespace runs made one space."""
    return values.to_frame().select(
        pl.col(values.name).str.normalize("NFC").str.replace_all(r"\s+", " ")
    )


def _clean_cells(values: pl.Series, field: str) -> pl.DataFrame:
    """A field's cells trimmed, then null when empty, too long or (text fields) a spreadsheet
    formula (the identity-number and date parsers report formulas themselves): columns ``value``
    and ``cell``, the `Reason` a cell was dropped."""
    limit = MAX_CELL_CHARS[field]
    value = pl.col("value")
    # One step per pass: an expression tree that reuses a computed value recomputes it per use.
    frame = values.cast(pl.String).rename("value").to_frame().select(value.str.strip_chars())
    frame = frame.select(pl.when(value == "").then(None).otherwise(value).alias("value"))
    # A cell has at least as many bytes as characters: count characters only when needed.
    maybe_long = (frame["value"].str.len_bytes() > limit).any()
    reason: Then | ChainedThen = pl.when(
        value.str.len_chars() > limit if maybe_long else pl.lit(False)
    ).then(pl.lit(Reason.CELL_TOO_LONG.value))
    if field in _TEXT_FIELDS:
        formula = pl.any_horizontal(value.str.starts_with(ch) for ch in _FORMULA_STARTS)
        reason = reason.when(formula).then(pl.lit(Reason.CELL_FORMULA.value))
    frame = frame.with_columns(cell=reason.otherwise(None))
    if frame["cell"].is_not_null().any():
        frame = frame.with_columns(value=pl.when(pl.col("cell").is_null()).then(value))
    return frame


def _cells_then(
    field: str, parse: Callable[[pl.Series], pl.DataFrame] | None = None
) -> Callable[[pl.Series], pl.DataFrame]:
    """A job: `_clean_cells` of ``field``, then (when given) ``parse`` of the kept values, whose
    columns replace ``value``."""

    def build(values: pl.Series) -> pl.DataFrame:
        cells = _clean_cells(values, field)
        if parse is None:
            return cells
        return pl.concat([cells.select("cell"), parse(cells["value"])], how="horizontal")

    return build


def _parts(surname: bool) -> Callable[[pl.Series], pl.DataFrame]:
    """A job: `name_parts` of the values (given names, or with ``surname`` surname parts)."""
    return lambda values: name_parts(values, surname=surname).to_frame("parts")


def _split_full_name(full: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(given part, surname part) of a full name; see the module docstring for the rule."""
    comma = full.str.contains(",", literal=True)
    before = full.str.extract(r"^([^,]*),", 1)
    after = full.str.extract(r"^[^,]*,(.*)$", 1)
    lead = full.str.extract(r"^(.*\S)\s+\S+$", 1)
    last = full.str.extract(r"\s(\S+)$", 1)
    given = pl.when(comma).then(after).when(last.is_null()).then(full).otherwise(lead)
    surname = pl.when(comma).then(before).otherwise(last)
    return given, surname


def normalise_export(
    raw: pl.DataFrame,
    *,
    reference_date: date,
    source: str,
    headers: Mapping[str, str] | None = None,
) -> NormalisedExport:
    """Normalise a read export (``row`` + standard-field text columns) into records and rejects.

    ``reference_date`` is the round's date (century of 10-digit numbers, future birth dates);
    ``source`` names the file in the rejects report; ``headers`` (field → header as written)
    lets the report name the steward's own column headers.
    """
    headers = dict(headers or {})

    def col_name(fld: str) -> str:
        return headers.get(fld, fld)

    if "row" not in raw.columns:
        raw = raw.with_row_index("row", offset=2)
    frame = raw.with_columns(pl.col("row").cast(pl.Int64))
    for fld in MAX_CELL_CHARS:
        if fld not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(fld))
    rejects: list[pl.DataFrame] = [empty_rejects()]
    ignored = pl.lit(Action.FIELD_IGNORED.value)

    # Every field's cells are cleaned (`_clean_cells`) and parsed in jobs, two at a time in
    # threads (polars and the kernels release the GIL); repeated values (names, dates) once per
    # distinct value. Without a full name the name parts come from the first- and last-name cells
    # alone, in the same job as their cleaning (one pass over the distinct names, not two);
    # otherwise they wait for the three name fields.
    parts_in_cells = frame["full_name"].null_count() == frame.height
    first_jobs: dict[str, Callable[[pl.Series], pl.DataFrame]] = {
        "first_name": _cells_then("first_name", _parts(False) if parts_in_cells else None),
        "last_name": _cells_then("last_name", _parts(True) if parts_in_cells else None),
        "full_name": _cells_then("full_name"),
        "personnummer": _cells_then(
            "personnummer", lambda v: parse_identity_numbers(v, reference_date)
        ),
        "birth_date": _cells_then(
            "birth_date", lambda v: parse_dates(v, reference_date, latest=reference_date)
        ),
        "signal_date": _cells_then("signal_date", lambda v: parse_dates(v, reference_date)),
        "signal": _cells_then("signal", _clean_signal),
        "record_id": _cells_then("record_id"),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            fld: pool.submit(_on_unique, frame[fld].cast(pl.String), build)
            for fld, build in first_jobs.items()
        }
        if not parts_in_cells:
            names = frame.select(*(futures[f].result()["value"].alias(f) for f in _NAME_FIELDS))
            given_split, surname_split = _split_full_name(pl.col("full_name"))
            use_full = pl.col("first_name").is_null() & pl.col("last_name").is_null()
            first = pl.when(use_full).then(given_split).otherwise(pl.col("first_name"))
            last = pl.when(use_full).then(surname_split).otherwise(pl.col("last_name"))
            names = names.select(_first=first, _last=last)
            futures["given"] = pool.submit(_on_unique, names["_first"], _parts(False))
            futures["surnames"] = pool.submit(_on_unique, names["_last"], _parts(True))
        done = {fld: future.result() for fld, future in futures.items()}
    if parts_in_cells:
        given, surnames = done["first_name"], done["last_name"]
    else:
        given, surnames = done["given"], done["surnames"]

    frame = frame.select(
        "row", *(done[fld]["cell"].alias(f"_{fld}_cell") for fld in MAX_CELL_CHARS)
    )
    for fld in MAX_CELL_CHARS:
        rejects.append(_reject_frame(frame, f"_{fld}_cell", col_name(fld), ignored, source))
    ids, births, signals = done["personnummer"], done["birth_date"], done["signal_date"]
    frame = frame.with_columns(
        ids["pnr"],
        ids["pnr_kind"],
        ids["pnr_birth_date"],
        ids["pnr_reason"],
        births["date"].alias("_birth_col"),
        births["reason"].alias("_birth_reason"),
        signals["date"].alias("_signal_date"),
        signals["reason"].alias("_signal_reason"),
        done["record_id"]["value"].alias("record_id"),
    )
    pnr_action = (
        pl.when(pl.col("pnr").is_not_null()).then(pl.lit(Action.WARNING.value)).otherwise(ignored)
    )
    rejects.append(_reject_frame(frame, "pnr_reason", col_name("personnummer"), pnr_action, source))
    rejects.append(_reject_frame(frame, "_birth_reason", col_name("birth_date"), ignored, source))
    rejects.append(_reject_frame(frame, "_signal_reason", col_name("signal_date"), ignored, source))

    mismatch = (
        pl.col("_birth_col").is_not_null()
        & pl.col("pnr_birth_date").is_not_null()
        & (pl.col("_birth_col") != pl.col("pnr_birth_date"))
    )
    frame = frame.with_columns(
        given_names=given["parts"],
        surnames=surnames["parts"],
        birth_date=pl.coalesce(pl.col("_birth_col"), pl.col("pnr_birth_date")),
        _mismatch=pl.when(mismatch).then(pl.lit(Reason.BIRTH_DATE_MISMATCH.value)),
        record_id=pl.coalesce(pl.col("record_id"), pl.col("row").cast(pl.String)),
        signal=done["signal"]["value"],
        signal_date=pl.col("_signal_date"),
    )
    rejects.append(
        _reject_frame(
            frame, "_mismatch", col_name("birth_date"), pl.lit(Action.WARNING.value), source
        )
    )
    given_known = pl.col("given_names").list.len() > 0
    surname_known = pl.col("surnames").list.len() > 0
    dated = pl.col("pnr").is_not_null() | pl.col("birth_date").is_not_null()
    # a full name alone is kept: the comparison model links it only on strong name evidence
    name_only = ~dated & given_known & surname_known
    linkable = pl.col("pnr").is_not_null() | ((given_known | surname_known) & dated) | name_only
    frame = frame.with_columns(
        _unlinkable=pl.when(~linkable).then(pl.lit(Reason.NO_LINKABLE_FIELDS.value)),
        _name_only=pl.when(name_only).then(pl.lit(Reason.NAME_ONLY.value)),
    )
    rejects.append(_reject_frame(frame, "_name_only", None, pl.lit(Action.WARNING.value), source))
    row_rejects = (
        frame.lazy()
        .filter(pl.col("_unlinkable").is_not_null())
        .select(
            file=pl.lit(source),
            row=pl.col("row"),
            column=pl.lit(None, dtype=pl.String),
            reason=pl.col("_unlinkable"),
            action=pl.lit(Action.ROW_REJECTED.value),
        )
        .cast(REJECTS_SCHEMA)
        .collect()
    )
    rejects.append(row_rejects)
    records = (
        frame.lazy()
        .filter(pl.col("_unlinkable").is_null())
        .select(list(RECORDS_SCHEMA))
        .cast(RECORDS_SCHEMA)  # type: ignore[arg-type]
        .collect()
    )
    report = pl.concat(rejects).sort("row", "column", nulls_last=True, maintain_order=True)
    return NormalisedExport(records=records, rejects=report)
