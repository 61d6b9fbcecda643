"""Read an agency export (CSV, Excel .xlsx, Parquet) into a frame of strings with standard fields.

What comes out (`Export.frame`) has a ``row`` column (Int64) and one String column per mapped
standard field (`STANDARD_FIELDS`); every other column of the file is dropped right after
reading and goes no further. The input file is only read, never modified.

The format is told by magic bytes and suffix; each has its reader (`matcher.steward.read_csv`,
`read_xlsx`, `read_parquet`), all giving a grid of ``__col<i>`` strings with a ``row`` column.
Headers are mapped to fields by `matcher.steward.headers` (synonyms and overrides).

Rows are numbered as the steward sees them in a spreadsheet: CSV records are counted from 1 (the
header is row 1 unless title lines precede it; a quoted cell spanning lines stays one row; blank
lines count), and xlsx rows carry the sheet's own row numbers. Problems are reported by file, row
and column, never by value.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from matcher.errors import InputFileError, MatcherWarning
from matcher.steward.headers import (
    IGNORE,
    STANDARD_FIELDS,
    ColumnMapping,
    MappingConfig,
    header_key,
    load_mapping,
    map_columns,
    require_fields,
)
from matcher.steward.read_csv import read_csv_grid
from matcher.steward.read_parquet import read_parquet_grid
from matcher.steward.read_xlsx import read_xlsx_grid
from matcher.steward.rejects import empty_rejects

__all__ = [
    "IGNORE",
    "STANDARD_FIELDS",
    "ColumnMapping",
    "Export",
    "ExportInfo",
    "MappingConfig",
    "header_key",
    "load_mapping",
    "map_columns",
    "read_export",
]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True, slots=True)
class ExportInfo:
    """What was detected while reading: format, encoding, separator, sheet, header, mapping."""

    path: Path
    format: str
    encoding: str | None
    separator: str | None
    sheet: str | None
    sheets: tuple[str, ...]
    header_row: int
    headers: tuple[str, ...]
    n_rows: int
    mapping: ColumnMapping


@dataclass(frozen=True, slots=True)
class Export:
    """An export read into standard fields: ``frame`` (``row`` + fields), ``info``, ``rejects``."""

    frame: pl.DataFrame
    info: ExportInfo
    rejects: pl.DataFrame


def _non_blank_rows(cells: pl.DataFrame) -> np.ndarray:
    """Rows with at least one cell that is not empty or whitespace. Column by column, each on
    the rows still undecided: usually the first column settles nearly every row."""
    undecided = np.ones(cells.height, np.bool_)
    for name in cells.columns:
        rows = np.flatnonzero(undecided)
        if not rows.size:
            break
        values = cells[name].gather(rows) if rows.size < cells.height else cells[name]
        filled = (values.is_not_null() & (values.str.strip_chars() != "")).to_numpy()
        undecided[rows[filled]] = False
    return ~undecided


def read_export(
    path: str | Path,
    *,
    encoding: str | None = None,
    separator: str | None = None,
    sheet: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> Export:
    """Read an agency export into ``row`` + standard-field String columns, unmapped ones dropped.

    ``columns`` maps headers to fields (or "ignore") before the built-in synonyms. Raises
    `InputFileError` / `MissingColumnError` / `ConfigError`, located by file, row and column.
    """
    path = Path(path)
    overrides = dict(columns or {})
    try:
        with path.open("rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise InputFileError("cannot open the file", file=path, reason="io") from exc
    suffix = path.suffix.lower()
    used_encoding: str | None = None
    used_sep: str | None = None
    used_sheet: str | None = None
    sheets: tuple[str, ...] = ()
    rejects = empty_rejects()
    if magic.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise InputFileError(
            "old .xls workbooks are not read; save it as .xlsx or CSV", file=path, reason="xls"
        )
    if suffix in (".xlsx", ".xlsm") or magic.startswith(_ZIP_MAGIC):
        fmt = "xlsx"
        grid, headers, header_row, used_sheet, sheets = read_xlsx_grid(
            path, sheet=sheet, overrides=overrides
        )
    elif suffix == ".parquet" or magic.startswith(_PARQUET_MAGIC):
        fmt = "parquet"
        grid, headers = read_parquet_grid(path)
        header_row = 1
    else:
        fmt = "csv"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputFileError("cannot read the file", file=path, reason="io") from exc
        if not data or data.isspace():  # isspace stops at the first other byte; no copy
            raise InputFileError("the file is empty", file=path, reason="empty_file")
        grid, headers, header_row, rejects, used_encoding, used_sep = read_csv_grid(
            path, data, encoding=encoding, separator=separator, overrides=overrides
        )
    headers = [h if h else f"column {i + 1}" for i, h in enumerate(headers)]
    mapping = map_columns(headers, overrides, file=path)
    require_fields(mapping, path)
    if "record_id" not in mapping.fields:
        warnings.warn(
            MatcherWarning(
                "no record-id column recognised: the local map will hold row numbers instead of "
                'your record ids; name the column with --column "Header=record_id"',
                file=path,
                reason="no_record_id",
            ),
            stacklevel=2,
        )
    index = {h: i for i, h in enumerate(headers)}
    frame = grid.select(
        pl.col("row"),
        *(pl.col(f"__col{index[h]}").alias(fld) for fld, h in mapping.fields.items()),
    )
    non_blank = _non_blank_rows(grid.select(pl.exclude("row")))
    if not non_blank.all():
        frame = frame.filter(non_blank)
    if frame.height == 0 and rejects.height == 0:
        raise InputFileError(
            "the file has a header but no data rows", file=path, row=header_row, reason="no_rows"
        )
    info = ExportInfo(
        path=path,
        format=fmt,
        encoding=used_encoding,
        separator=used_sep,
        sheet=used_sheet,
        sheets=sheets,
        header_row=header_row,
        headers=tuple(headers),
        n_rows=frame.height,
        mapping=mapping,
    )
    return Export(frame=frame, info=info, rejects=rejects)
