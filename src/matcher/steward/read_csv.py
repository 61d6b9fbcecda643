"""CSV exports: encoding and separator detection, title lines skipped, ragged rows rejected.

Encoding by a strict rule (a BOM decides; else strict UTF-8; else Windows-1252, whose five
undefined bytes make garbage fail). This is deterministic where a statistical guesser such as
charset-normalizer can pick a wrong code page for a short Swedish file. Separator ``;``, ``,`` or
tab detected from the first lines (the one that splits them most consistently). UTF-16 with a BOM
(Excel's "Unicode text") is read too. NUL bytes, or more than a few stray control characters,
mean the file is not a text export. Records are counted from 1 as the steward sees them.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from matcher.errors import ConfigError, InputFileError
from matcher.steward.headers import find_header
from matcher.steward.rejects import REJECTS_SCHEMA, Action, Reason

__all__ = ["SEPARATORS", "read_csv_grid"]

SEPARATORS = (";", ",", "\t")
_SNIFF_LINES = 50
_CONTROL_RE = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A few stray control characters (a vertical tab pasted into a notes cell) are tolerated; a text
# export with more than this many, or more than one per thousand characters, is binary.
_MAX_STRAY_CONTROLS = 8


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


def _mostly_binary(text: str) -> bool:
    """Whether NUL bytes are more than a few damaged rows: over 1 % of the characters, or on
    more lines than ``_MAX_STRAY_CONTROLS`` and one in a hundred (a file refused whole)."""
    if text.count("\x00") * 100 > len(text):
        return True
    damaged = sum(1 for line in text.splitlines() if "\x00" in line)
    return damaged > max(_MAX_STRAY_CONTROLS, text.count("\n") // 100)


def _unquoted(line: str) -> str:
    """A line with double-quoted stretches removed (for counting separators)."""
    return re.sub(r'"[^"]*"', "", line)


def _sniff_separator(lines: Sequence[str]) -> str:
    """The separator splitting the first lines most consistently (most lines with the same
    non-zero count; ties to the larger count, then the order ; , tab)."""
    best: tuple[int, int, int] | None = None
    choice = SEPARATORS[0]
    for order, sep in enumerate(SEPARATORS):
        counts = [_unquoted(line).count(sep) for line in lines if line.strip()]
        nonzero = Counter(c for c in counts if c > 0)
        if not nonzero:
            continue
        count, freq = max(nonzero.items(), key=lambda kv: (kv[1], kv[0]))
        score = (freq, count, -order)
        if best is None or score > best:
            best, choice = score, sep
    return choice


def read_csv_grid(
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
    if nul >= 0 and _mostly_binary(text):
        raise InputFileError(
            "the file is full of NUL bytes; it is not a plain text export",
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
    h = find_header(head_rows, overrides)
    headers = [c.strip() for c in head_rows[h]] if head_rows else []
    if len(headers) <= 1:
        others = [s for s in SEPARATORS if s != sep and headers and s in headers[0]]
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
    is_ragged = extra.is_not_null() & (extra.str.strip_chars() != "")
    # A few rows with NUL bytes (damage) are skipped with a reason, not the whole file.
    has_nul = pl.any_horizontal(pl.col(names).str.contains("\x00", literal=True)).fill_null(False)
    reason = pl.when(has_nul).then(pl.lit(Reason.NUL_BYTES.value))
    rejected = grid.filter(is_ragged | has_nul)
    rejects = rejected.select(
        file=pl.lit(path.name),
        row=pl.col("row"),
        column=pl.lit(None, dtype=pl.String),
        reason=reason.otherwise(pl.lit(Reason.RAGGED_ROW.value)),
        action=pl.lit(Action.ROW_REJECTED.value),
    ).cast(pl.Schema(REJECTS_SCHEMA))
    if rejected.height:
        grid = grid.filter(~(is_ragged | has_nul))
    grid = grid.drop(names[-1])
    grid = grid.rename({f"c{i}": f"__col{i}" for i in range(width)})
    return grid, headers, h + 1, rejects, used_encoding, sep
