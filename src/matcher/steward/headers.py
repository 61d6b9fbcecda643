"""Export headers mapped to matcher's standard fields: synonyms, overrides, header-row search.

Headers are matched to fields case-, whitespace- and diacritic-insensitively (`header_key`)
against Swedish and English synonyms, or through explicit overrides (a TOML mapping file or
flags). A full-name column ("Namn") is mapped to ``full_name`` only when there is no separate
first/last-name column; `matcher.steward.normalise` splits it. Required: an identity-number
column, or a name column together with a birth-date column (`MissingColumnError` otherwise).
The readers (`read_csv`, `read_xlsx`, `read_parquet`) use `find_header` to skip title rows.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matcher.errors import ConfigError, InputFileError, MissingColumnError

__all__ = [
    "HEADER_SCAN_ROWS",
    "IGNORE",
    "STANDARD_FIELDS",
    "ColumnMapping",
    "MappingConfig",
    "find_header",
    "header_key",
    "load_mapping",
    "map_columns",
    "recognised",
    "require_fields",
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
        "arendetyp",
        "arendeslag",
        "typavarende",
        "typavhandelse",
        "kontakttyp",
        "typavkontakt",
        "kontaktanledning",
        "remisstyp",
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
        "remissnr",
        "remissnummer",
        "registreringsnr",
        "registreringsnummer",
        "regnr",
        "referensnr",
        "referensnummer",
        "lopnrarende",
        "arendelopnr",
        "arendelopnummer",
    ),
}
_RANK: dict[str, tuple[str, int]] = {
    key: (fld, rank) for fld, keys in _SYNONYMS.items() for rank, key in enumerate(keys)
}

#: How many rows from the top are searched for the header row.
HEADER_SCAN_ROWS = 30


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


def recognised(cells: Sequence[str | None], overrides: Mapping[str, str]) -> int:
    """How many distinct fields a row of cells would map to if it were the header."""
    keyed = {header_key(h): v for h, v in overrides.items()}
    found = set()
    for cell in cells:
        if cell:
            cand = _candidate(cell, keyed)
            if cand is not None:
                found.add(cand[0])
    return len(found)


def find_header(rows: Sequence[Sequence[str | None]], overrides: Mapping[str, str]) -> int:
    """Index of the header row among the first rows: the first that names two or more fields,
    else the one naming most, else the first non-empty row."""
    scores = [recognised(r, overrides) for r in rows[:HEADER_SCAN_ROWS]]
    for i, score in enumerate(scores):
        if score >= 2:
            return i
    if scores and max(scores) > 0:
        return scores.index(max(scores))
    for i, r in enumerate(rows):
        if any(c not in (None, "") for c in r):
            return i
    return 0


def require_fields(mapping: ColumnMapping, path: Path) -> None:
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
