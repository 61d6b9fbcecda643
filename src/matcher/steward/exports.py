"""Read an agency export (CSV, Excel .xlsx, Parquet) into a frame of strings with standard fields.

What comes out (`Export.frame`) has a ``row`` column (Int64) and one String column per mapped
standard field (`STANDARD_FIELDS`); every other column of the file is dropped right after
reading and goes no further. The input file is only read, never modified.

- CSV: encoding detected by a strict rule (a BOM decides; else strict UTF-8; else Windows-1252,
  whose five undefined bytes make garbage fail). This is deterministic where a statistical guesser
  such as charset-normalizer can pick a wrong code page for a short Swedish file. Separator ``;``,
  ``,`` or tab detected from the first lines (the one that splits them most consistently). UTF-16
  with a BOM (Excel's "Unicode text") is read too. Both can be overridden. NUL bytes, or more than
  a few stray control characters, mean the file is not a text export.
- Excel .xlsx (through fastexcel): title rows above the header are skipped, the sheet with a
  recognised header is chosen (or ``sheet``), date cells arrive as ISO text and numeric cells as
  digits without ``.0`` (a personnummer stored as a number shows up with its leading zero lost;
  `matcher.steward.identifiers` recognises and reports that).
- Parquet: column names are the header; values are cast to text.

Headers are matched to fields case-, whitespace- and diacritic-insensitively (`header_key`)
against Swedish and English synonyms, or through explicit overrides (a TOML mapping file or
flags). A full-name column ("Namn") is mapped to ``full_name`` only when there is no separate
first/last-name column; `matcher.steward.normalise` splits it. Required: an identity-number
column, or a name column together with a birth-date column (`MissingColumnError` otherwise).

Rows are numbered as the steward sees them in a spreadsheet: CSV records are counted from 1 (the
header is row 1 unless title lines precede it; a quoted cell spanning lines stays one row; blank
lines count), and xlsx rows carry the sheet's own row numbers. Problems are reported by file, row
and column, never by value.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from matcher.errors import ConfigError, InputFileError, MissingColumnError
from matcher.steward.rejects import REJECTS_SCHEMA, Action, Reason, empty_rejects

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

#: Fields an export can map columns to; `full_name` is split into first and last name later.
STANDARD_FIELDS: tuple[str, ...] = (
    "personnummer",
    "first_name",
    "last_name",
    "full_name",
    "birth_date",
    "signal",
    "signal_date",
    "record_id",
)
#: Mapping value that drops a column explicitly.
IGNORE = "ignore"

# Header synonyms per field, best first (compared after `header_key`).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "personnummer": (
        "personnummer",
        "personnr",
        "pnr",
        "persnr",
        "personnummersamordningsnummer",
        "samordningsnummer",
        "identitetsnummer",
        "idnummer",
        "idnr",
        "fodelsenummer",
        "personalidentitynumber",
        "personalnumber",
        "personnumber",
        "ssn",
    ),
    "first_name": (
        "fornamn",
        "fornamnen",
        "givenname",
        "givennames",
        "firstname",
        "forename",
        "tilltalsnamn",
        "callingname",
    ),
    "last_name": ("efternamn", "lastname", "surname", "familyname", "familjenamn"),
    "full_name": (
        "namn",
        "fulltnamn",
        "efternamnfornamn",
        "fornamnefternamn",
        "name",
        "fullname",
        "elevnamn",
        "elev",
    ),
    "birth_date": (
        "fodelsedatum",
        "fodelsedag",
        "fdatum",
        "fodd",
        "birthdate",
        "dateofbirth",
        "dob",
    ),
    "signal": (
        "signal",
        "kategori",
        "signaltyp",
        "orsak",
        "anledning",
        "handelsetyp",
        "typ",
        "category",
        "signaltype",
        "reason",
        "handelse",
        "aktualisering",
        "aktualiseringsorsak",
        "brottsrubricering",
        "brottskod",
        "brott",
        "kontaktorsak",
        "remissorsak",
        "insats",
        "atgard",
    ),
    "signal_date": (
        "datum",
        "handelsedatum",
        "signaldatum",
        "registreringsdatum",
        "rapportdatum",
        "anmalningsdatum",
        "date",
        "eventdate",
        "signaldate",
        "inkom",
        "inkomdatum",
        "aktualiseringsdatum",
        "brottsdatum",
        "remissdatum",
        "kontaktdatum",
        "beslutsdatum",
        "handelsedag",
    ),
    "record_id": (
        "arendeid",
        "arendenummer",
        "arendenr",
        "id",
        "lopnummer",
        "lopnr",
        "diarienummer",
        "dnr",
        "referens",
        "recordid",
        "caseid",
        "journalid",
        "journalnummer",
        "journalnr",
        "elevid",
        "deltagarid",
        "remissid",
        "handelseid",
        "kontaktid",
        "vardkontaktid",
    ),
}
_RANK: dict[str, tuple[str, int]] = {
    key: (fld, rank) for fld, keys in _SYNONYMS.items() for rank, key in enumerate(keys)
}

_SEPARATORS = (";", ",", "\t")
_SNIFF_LINES = 50
_HEADER_SCAN_ROWS = 30
_CONTROL_RE = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A few stray control characters (a vertical tab pasted into a notes cell) are tolerated; a text
# export with more than this many, or more than one per thousand characters, is binary.
_MAX_STRAY_CONTROLS = 8
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_PARQUET_MAGIC = b"PAR1"


def header_key(header: str) -> str:
    """A header reduced for matching: NFKD, diacritics dropped, lower case, letters/digits only."""
    decomposed = unicodedata.normalize("NFKD", header)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", kept.casefold())


@dataclass(frozen=True, slots=True)
class MappingConfig:
    """A column mapping file: header → field (or "ignore"), and optional reading settings."""

    columns: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None


def load_mapping(path: str | Path) -> MappingConfig:
    """Read a TOML mapping file: ``[columns]`` header = field, optional ``[read]`` settings.

    Example::

        [columns]
        "Elevens personnummer" = "personnummer"
        "Anteckning" = "ignore"

        [read]
        encoding = "cp1252"
        separator = ";"
        sheet = "Elever"
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("cannot read the mapping file", file=path, reason="io") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("the mapping file is not valid TOML", file=path, reason="toml") from exc
    columns = data.get("columns", {})
    read = data.get("read", {})
    if not isinstance(columns, dict) or not isinstance(read, dict):
        raise ConfigError("[columns] and [read] must be tables", file=path, reason="toml")
    unknown = set(data) - {"columns", "read"}
    if unknown:
        raise ConfigError(
            f"unknown section(s) {sorted(unknown)}", file=path, reason="unknown_section"
        )
    for header, value in columns.items():
        _check_field(value, file=path, column=header)
    for key, value in read.items():
        if key not in ("encoding", "separator", "sheet") or not isinstance(value, str):
            raise ConfigError(f"unknown [read] setting {key!r}", file=path, reason="toml")
    return MappingConfig(
        columns={str(k): str(v) for k, v in columns.items()},
        encoding=read.get("encoding"),
        separator=read.get("separator"),
        sheet=read.get("sheet"),
    )


def _check_field(
    value: object, *, file: str | Path | None = None, column: str | None = None
) -> None:
    """Refuse a mapping value that is not a standard field or "ignore"."""
    if value not in (*STANDARD_FIELDS, IGNORE):
        raise ConfigError(
            f"mapping target must be one of {[*STANDARD_FIELDS, IGNORE]}",
            file=file,
            column=column,
            reason="unknown_field",
        )


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which header feeds which standard field, and which headers are dropped."""

    fields: dict[str, str]
    ignored: tuple[str, ...]
    unmatched_overrides: tuple[str, ...] = ()

    @property
    def header_to_field(self) -> dict[str, str]:
        """Header → field for the mapped columns."""
        return {h: f for f, h in self.fields.items()}


def _candidate(header: str, overrides: Mapping[str, str]) -> tuple[str, int] | None:
    """The (field, rank) a header maps to; overrides rank before every synonym."""
    key = header_key(header)
    if key in overrides:
        target = overrides[key]
        return None if target == IGNORE else (target, -1)
    return _RANK.get(key)


def map_columns(
    headers: Sequence[str],
    overrides: Mapping[str, str] | None = None,
    *,
    file: str | Path | None = None,
) -> ColumnMapping:
    """Map file headers to standard fields by overrides, then synonyms; best synonym wins.

    Two columns with the same header that would feed a field are an `InputFileError`
    (duplicate headers); two different headers for one field keep the better-ranked one.
    """
    overrides = overrides or {}
    for header, value in overrides.items():
        _check_field(value, file=file, column=header)
    keyed = {header_key(h): v for h, v in overrides.items()}
    best: dict[str, tuple[int, str]] = {}
    seen_keys: Counter[str] = Counter(header_key(h) for h in headers)
    for header in headers:
        cand = _candidate(header, keyed)
        if cand is None:
            continue
        fld, rank = cand
        if seen_keys[header_key(header)] > 1:
            raise InputFileError(
                "duplicate column header for a needed field",
                file=file,
                row=None,
                column=header,
                reason="duplicate_header",
            )
        current = best.get(fld)
        if current is not None and current[0] == rank == -1:
            raise ConfigError(
                f"two columns mapped to {fld!r}", file=file, column=header, reason="mapping"
            )
        if current is None or rank < current[0]:
            best[fld] = (rank, header)
    fields = {fld: header for fld, (_, header) in best.items()}
    if "full_name" in fields and ("first_name" in fields or "last_name" in fields):
        del fields["full_name"]
    used = set(fields.values())
    ignored = tuple(h for h in headers if h not in used)
    header_keys = {header_key(h) for h in headers}
    unmatched = tuple(h for h in overrides if header_key(h) not in header_keys)
    return ColumnMapping(fields=fields, ignored=ignored, unmatched_overrides=unmatched)


def _recognised(cells: Sequence[str | None], overrides: Mapping[str, str]) -> int:
    """How many distinct fields a row of cells would map to if it were the header."""
    keyed = {header_key(h): v for h, v in overrides.items()}
    found = set()
    for cell in cells:
        if cell:
            cand = _candidate(cell, keyed)
            if cand is not None:
                found.add(cand[0])
    return len(found)


def _find_header(rows: Sequence[Sequence[str | None]], overrides: Mapping[str, str]) -> int:
    """Index of the header row among the first rows: the first that names two or more fields,
    else the one naming most, else the first non-empty row."""
    scores = [_recognised(r, overrides) for r in rows[:_HEADER_SCAN_ROWS]]
    for i, score in enumerate(scores):
        if score >= 2:
            return i
    if scores and max(scores) > 0:
        return scores.index(max(scores))
    for i, r in enumerate(rows):
        if any(c not in (None, "") for c in r):
            return i
    return 0


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


# ---------------------------------------------------------------------------------------------
# CSV


def _decode(data: bytes, encoding: str | None, path: Path) -> tuple[str, str]:
    """Decode CSV bytes by the detection rule (or the given encoding); (text, encoding name)."""
    if encoding is not None:
        candidates = [encoding]
    elif data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "cp1252"]
    error: UnicodeDecodeError | None = None
    for name in candidates:
        try:
            return data.decode(name), name
        except LookupError as exc:
            raise ConfigError("unknown encoding", file=path, reason="encoding") from exc
        except UnicodeDecodeError as exc:
            error = exc
    assert error is not None
    row = data.count(b"\n", 0, error.start) + 1
    raise InputFileError(
        f"cannot decode the file as {' or '.join(candidates)}; is it a text export?",
        file=path,
        row=row,
        reason="encoding",
    ) from None


def _unquoted(line: str) -> str:
    """A line with double-quoted stretches removed (for counting separators)."""
    return re.sub(r'"[^"]*"', "", line)


def _sniff_separator(lines: Sequence[str]) -> str:
    """The separator splitting the first lines most consistently (most lines with the same
    non-zero count; ties to the larger count, then the order ; , tab)."""
    best: tuple[int, int, int] | None = None
    choice = _SEPARATORS[0]
    for order, sep in enumerate(_SEPARATORS):
        counts = [_unquoted(line).count(sep) for line in lines if line.strip()]
        nonzero = Counter(c for c in counts if c > 0)
        if not nonzero:
            continue
        count, freq = max(nonzero.items(), key=lambda kv: (kv[1], kv[0]))
        score = (freq, count, -order)
        if best is None or score > best:
            best, choice = score, sep
    return choice


def _read_csv(
    path: Path,
    data: bytes,
    *,
    encoding: str | None,
    separator: str | None,
    overrides: Mapping[str, str],
) -> tuple[pl.DataFrame, list[str], int, pl.DataFrame, str, str]:
    """CSV → (grid of data rows with ``row``, headers, header row, rejects, encoding, separator)."""
    text, used_encoding = _decode(data, encoding, path)
    text = text.removeprefix("\ufeff")
    nul = text.find("\x00")
    if nul >= 0:
        raise InputFileError(
            "the file contains NUL bytes; it is not a plain text export",
            file=path,
            row=text.count("\n", 0, nul) + 1,
            reason="binary_content",
        )
    controls = _CONTROL_RE.findall(text, 0, 1 << 20)
    if len(controls) > max(_MAX_STRAY_CONTROLS, len(text[: 1 << 20]) // 1000):
        first = _CONTROL_RE.search(text)
        raise InputFileError(
            "the file is full of control characters; it is not a plain text export",
            file=path,
            row=None if first is None else text.count("\n", 0, first.start()) + 1,
            reason="binary_content",
        )
    if not text or text.isspace():
        raise InputFileError("the file is empty", file=path, reason="empty_file")
    head_lines = [ln.rstrip("\r") for ln in text[: 1 << 16].split("\n")[:_SNIFF_LINES]]
    sep = separator if separator is not None else _sniff_separator(head_lines)
    if len(sep) != 1:
        raise ConfigError("the separator must be one character", reason="separator")
    head_rows = list(csv.reader(io.StringIO("\n".join(head_lines)), delimiter=sep))
    h = _find_header(head_rows, overrides)
    headers = [c.strip() for c in head_rows[h]] if head_rows else []
    if len(headers) <= 1:
        others = [s for s in _SEPARATORS if s != sep and headers and s in headers[0]]
        if others:
            shown = "tab" if others[0] == "\t" else repr(others[0])
            raise InputFileError(
                f"everything is in one column: the separator seems to be {shown}, "
                f"not {'tab' if sep == chr(9) else repr(sep)} (use --separator)",
                file=path,
                row=h + 1,
                reason="wrong_separator",
            )
    width = len(headers)
    names = [f"c{i}" for i in range(width + 1)]
    if used_encoding == "utf-8":
        payload = data
    elif used_encoding == "utf-8-sig":
        payload = data[3:]
    else:
        payload = text.encode("utf-8")
    try:
        grid = pl.read_csv(
            payload,
            separator=sep,
            has_header=False,
            infer_schema=False,
            schema=dict.fromkeys(names, pl.String),
            truncate_ragged_lines=True,
            missing_columns="insert",
            quote_char='"',
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(
            "cannot parse the file as CSV (an unclosed quote?)", file=path, reason="csv_parse"
        ) from exc
    # data rows start after the header row (a slice: no copy); row numbers as the steward sees
    grid = grid.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))
    grid = grid.slice(h + 1)
    extra = pl.col(names[-1])
    ragged = grid.filter(extra.is_not_null() & (extra.str.strip_chars() != ""))
    rejects = ragged.select(
        file=pl.lit(path.name),
        row=pl.col("row"),
        column=pl.lit(None, dtype=pl.String),
        reason=pl.lit(Reason.RAGGED_ROW.value),
        action=pl.lit(Action.ROW_REJECTED.value),
    ).cast(REJECTS_SCHEMA)
    if ragged.height:
        grid = grid.filter(~(extra.is_not_null() & (extra.str.strip_chars() != "")))
    grid = grid.drop(names[-1])
    grid = grid.rename({f"c{i}": f"__col{i}" for i in range(width)})
    return grid, headers, h + 1, rejects, used_encoding, sep


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


# ---------------------------------------------------------------------------------------------
# Excel


def _xlsx_sheet_paths(zf: zipfile.ZipFile) -> list[str]:
    """Worksheet XML paths in workbook order."""
    workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = {}
    for m in re.finditer(r"<(?:\w+:)?Relationship\b([^>]*)>", rels):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        targets[attrs.get("Id")] = attrs.get("Target", "")
    paths = []
    for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)>", workbook):
        rid = re.search(r'\br:id="([^"]*)"|\bid="([^"]*)"', m.group(1))
        target = targets.get(rid.group(1) or rid.group(2)) if rid else None
        target = (target or "").lstrip("/")
        paths.append(target if target.startswith("xl/") else f"xl/{target}")
    return paths


def _xlsx_first_row(path: Path, sheet_index: int) -> int:
    """The 1-based row number of the first row holding a value (where fastexcel starts)."""
    try:
        with zipfile.ZipFile(path) as zf:
            sheet_path = _xlsx_sheet_paths(zf)[sheet_index]
            with zf.open(sheet_path) as fh:
                head = fh.read(1 << 22).decode("utf-8", "replace")
    except (KeyError, IndexError, OSError, zipfile.BadZipFile):
        return 1
    number = 0
    row_re = r"<(?:\w+:)?row\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)"
    for m in re.finditer(row_re, head, re.S):
        r = re.search(r'\br="(\d+)"', m.group(1))
        number = int(r.group(1)) if r else number + 1
        if m.group(2) and re.search(r"<(?:\w+:)?(?:v|is)\b", m.group(2)):
            return number
    return 1


def _read_xlsx(
    path: Path, *, sheet: str | None, overrides: Mapping[str, str]
) -> tuple[pl.DataFrame, list[str], int, str, tuple[str, ...]]:
    """Excel → (grid of data rows with ``row``, headers, header row, sheet name, sheet names)."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        names = tuple(reader.sheet_names)
        if sheet is not None:
            if sheet in names:
                chosen = [names.index(sheet)]
            elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
                chosen = [int(sheet) - 1]
            else:
                raise ConfigError(
                    f"no sheet {sheet!r}; the workbook has {list(names)}",
                    file=path,
                    reason="sheet",
                )
        else:
            chosen = list(range(len(names)))
        best: tuple[int, int, int] | None = None
        for idx in chosen:
            head = reader.load_sheet(
                idx, header_row=None, dtypes="string", n_rows=_HEADER_SCAN_ROWS
            ).to_polars()
            if head.width == 0 or head.height == 0:
                continue
            rows = head.rows()
            h = _find_header(rows, overrides)
            score = _recognised(rows[h], overrides)
            if best is None or score > best[0]:
                best = (score, idx, h)
        if best is None:
            raise InputFileError("the workbook has no data", file=path, reason="empty_file")
        _, idx, h = best
        grid = reader.load_sheet(idx, header_row=None, dtypes="string").to_polars()
    except (ConfigError, InputFileError):
        raise
    except Exception as exc:  # fastexcel raises its own tree; any of them means unreadable
        raise InputFileError(
            "cannot read the Excel file (damaged, truncated or password-protected?)",
            file=path,
            reason="xlsx_unreadable",
        ) from exc
    first = _xlsx_first_row(path, idx)
    headers = ["" if v is None else str(v).strip() for v in grid.row(h)]
    grid = grid.rename({c: f"__col{i}" for i, c in enumerate(grid.columns)})
    grid = grid.with_row_index("row", offset=first).with_columns(pl.col("row").cast(pl.Int64))
    return grid.slice(h + 1), headers, first + h, names[idx], names


# ---------------------------------------------------------------------------------------------
# Parquet


def _read_parquet(path: Path) -> tuple[pl.DataFrame, list[str]]:
    """Parquet → (grid of data rows with ``row``, headers); values cast to text."""
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:
        raise InputFileError(
            "cannot read the Parquet file", file=path, reason="parquet_unreadable"
        ) from exc
    headers = list(frame.columns)
    casts = []
    for i, (name, dtype) in enumerate(frame.schema.items()):
        col = pl.col(name)
        if dtype.is_float():
            expr = (
                pl.when(col == col.round(0))
                .then(col.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(col.cast(pl.String))
            )
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            expr = col.dt.date().cast(pl.String)
        else:
            expr = col.cast(pl.String, strict=False)
        casts.append(expr.alias(f"__col{i}"))
    grid = frame.select(casts).with_row_index("row", offset=2)
    return grid.with_columns(pl.col("row").cast(pl.Int64)), headers


# ---------------------------------------------------------------------------------------------


def _require(mapping: ColumnMapping, path: Path) -> None:
    """An identity number, or a name and a birth date, must be mapped."""
    f = mapping.fields
    has_name = any(k in f for k in ("first_name", "last_name", "full_name"))
    if "personnummer" in f or (has_name and "birth_date" in f):
        return
    missing = "a personnummer column, or a name column and a birth-date column"
    raise MissingColumnError(
        f"no column for {missing}; map them with a mapping file or --column",
        file=path,
        reason="missing_columns",
    )


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
        grid, headers, header_row, used_sheet, sheets = _read_xlsx(
            path, sheet=sheet, overrides=overrides
        )
    elif suffix == ".parquet" or magic.startswith(_PARQUET_MAGIC):
        fmt = "parquet"
        grid, headers = _read_parquet(path)
        header_row = 1
    else:
        fmt = "csv"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputFileError("cannot read the file", file=path, reason="io") from exc
        if not data or data.isspace():  # isspace stops at the first other byte; no copy
            raise InputFileError("the file is empty", file=path, reason="empty_file")
        grid, headers, header_row, rejects, used_encoding, used_sep = _read_csv(
            path, data, encoding=encoding, separator=separator, overrides=overrides
        )
    headers = [h if h else f"column {i + 1}" for i, h in enumerate(headers)]
    mapping = map_columns(headers, overrides, file=path)
    _require(mapping, path)
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
