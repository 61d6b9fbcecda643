"""Admission checks of an upload: what its Parquet footer promises, checked before decoding.

A small Parquet file can decode to gigabytes (twenty million constant rows in 1.5 MB, one list
of millions of elements, one huge string, a dictionary page every row points at). So before
any column is decoded, the footer's row count is compared with the header's and with the
configured maximum, the rows with a rows-per-byte bound (every row carries a random ref that
does not compress), and a conservative estimate of the decoded size with an absolute and a
per-byte bound; the column names and their order are checked here too, so that a file with
its columns in another order is told so. After decoding, the string and list lengths are
checked before anything hashes or copies the values.

Messages name columns and counts, never a value.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import io
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from matcher.steward.hashed_file import HASHED_SCHEMA, HashedFileHeader
from matcher_api.errors import PayloadTooLargeError, UnprocessableError

# Every row holds a random ref of at least 8 bytes (``REF_BYTES``), which no codec shrinks.
MIN_BYTES_PER_ROW = 8
# The longest value a column may hold, in bytes (refs are 16 hex digits; labels are short).
MAX_VALUE_BYTES = {"ref": 64, "agency": 100, "signal": 256}
# The most tokens one record may carry in a list column (3 given names x 3 surname parts for
# name tokens; a handful of blocks).
MAX_LIST_LENGTH = 64
# Bytes a decoded value takes besides its content: a string view, a list offset, validity.
_VALUE_OVERHEAD = 16
_FIXED_WIDTH = {
    "signal_date": 4,
    "id_token": 8,
    "id_kind": 1,
    **{name: 8 for name, dtype in HASHED_SCHEMA.items() if isinstance(dtype, pl.List)},
}
# The list columns (tokens, name words and sound keys, birth-date parts).
_LIST_COLUMNS = frozenset(n for n, dtype in HASHED_SCHEMA.items() if isinstance(dtype, pl.List))


@dataclass(frozen=True)
class UploadLimits:
    """The bounds one upload is held to (from the service settings)."""

    max_rows: int
    max_decoded_bytes: int
    max_decode_ratio: float
    allow_empty: bool = False


@dataclass(frozen=True)
class Footer:
    """What the footer says about an upload: rows and a bound on its decoded size."""

    rows: int
    decoded_bytes: int


def _column_order(names: list[str]) -> None:
    """Refuse other columns, or the right columns in another order, saying which it is."""
    expected = list(HASHED_SCHEMA)
    if names == expected:
        return
    if sorted(names) == sorted(expected):
        raise UnprocessableError(
            f"the hashed file has the right columns in another order: expected {expected}, "
            f"found {names}; write the columns in the expected order (matcher hash does)",
            reason="column_order",
        )
    missing = [c for c in expected if c not in names]
    extra = [c for c in names if c not in expected]
    raise UnprocessableError(
        f"the hashed file has the wrong columns (missing {missing}, unexpected {extra})",
        reason="schema",
    )


def _decoded_estimate(meta: pq.FileMetaData) -> int:
    """A bound on the bytes the columns take once decoded, from the footer alone.

    Each value costs its overhead (or its fixed width), each string or binary column at least
    its uncompressed size; dictionary-encoded strings are views into their dictionary, which
    the uncompressed size counts.
    """
    total = 0
    for group in range(meta.num_row_groups):
        row_group = meta.row_group(group)
        for index in range(row_group.num_columns):
            column = row_group.column(index)
            top = column.path_in_schema.split(".", 1)[0]
            width = _FIXED_WIDTH.get(top)
            values = max(column.num_values, 0)
            if width is not None:
                total += values * (width + 1)
            else:
                total += values * _VALUE_OVERHEAD + max(column.total_uncompressed_size, 0)
    return total


def check_footer(content: bytes, header: HashedFileHeader, limits: UploadLimits) -> Footer:
    """Check an upload's footer against its header and the limits; nothing is decoded.

    Raises UnprocessableError (422) for a file inconsistent with itself, with a damaged footer
    or a decompression bomb, PayloadTooLargeError (413) for one over the configured row or
    memory limit.
    """
    try:
        return _check_footer(content, header, limits)
    except (ValueError, OSError, pa.ArrowException):  # a damaged name, count or statistic
        raise UnprocessableError(
            "the hashed file's footer is damaged (it could not be read)", reason="damaged_footer"
        ) from None


def _check_footer(content: bytes, header: HashedFileHeader, limits: UploadLimits) -> Footer:
    """:func:`check_footer` without the translation of pyarrow's and Python's own errors."""
    try:
        parquet = pq.ParquetFile(io.BytesIO(content))
        meta = parquet.metadata
        names = list(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError, ValueError):
        raise UnprocessableError(
            "cannot read the hashed file's footer (not a Parquet file, or truncated)",
            reason="unreadable",
        ) from None
    _column_order(names)
    rows = int(meta.num_rows)
    if rows != header.row_count:
        raise UnprocessableError(
            f"header says {header.row_count} rows but the file holds {rows}", reason="row_count"
        )
    if rows == 0 and not limits.allow_empty:
        raise UnprocessableError(
            "the hashed file holds no rows; it would replace the agency's list with an empty "
            "one (send allow_empty=true if that is meant)",
            reason="empty",
        )
    if rows > limits.max_rows:
        raise PayloadTooLargeError(
            f"the hashed file holds {rows} rows, more than the limit of {limits.max_rows}",
            reason="too_many_rows",
        )
    if rows * MIN_BYTES_PER_ROW > len(content):
        raise UnprocessableError(
            f"the file holds {rows} rows in {len(content)} bytes, fewer than "
            f"{MIN_BYTES_PER_ROW} bytes a row: not a hashed file (refs are random)",
            reason="decompression_bomb",
        )
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    if sum(g.num_rows for g in groups) != rows:
        raise UnprocessableError(
            "the file's row groups do not add up to its row count", reason="row_count"
        )
    for group in groups:
        for index in range(group.num_columns):
            column = group.column(index)
            top = column.path_in_schema.split(".", 1)[0]
            most = group.num_rows * (MAX_LIST_LENGTH if top in _LIST_COLUMNS else 1)
            if column.num_values > most:
                raise UnprocessableError(
                    f"column {top} holds more values than {MAX_LIST_LENGTH} a row",
                    reason="decompression_bomb",
                )
    decoded = _decoded_estimate(meta)
    if decoded > limits.max_decode_ratio * max(len(content), 1):
        raise UnprocessableError(
            f"the file would decode to about {decoded} bytes, more than "
            f"{limits.max_decode_ratio:g} times its size: refused as a decompression bomb",
            reason="decompression_bomb",
        )
    if decoded > limits.max_decoded_bytes:
        raise PayloadTooLargeError(
            f"the file would decode to about {decoded} bytes, more than the limit of "
            f"{limits.max_decoded_bytes}",
            reason="too_large_decoded",
        )
    return Footer(rows=rows, decoded_bytes=decoded)


def check_lengths(frame: pl.DataFrame) -> None:
    """Refuse over-long strings and lists before any check hashes or copies them (the decoded
    values are views: measuring their lengths touches no content)."""
    for name, most in MAX_VALUE_BYTES.items():
        if name in frame.columns and frame.height and frame.schema[name] == pl.Utf8:
            longest = frame[name].str.len_bytes().max()
            if isinstance(longest, int) and longest > most:
                raise UnprocessableError(
                    f"column {name} holds values longer than {most} bytes", reason="value_length"
                )
    for name in sorted(_LIST_COLUMNS):
        if name in frame.columns and frame.height and isinstance(frame.schema[name], pl.List):
            longest = frame[name].list.len().max()
            if isinstance(longest, int) and longest > MAX_LIST_LENGTH:
                raise UnprocessableError(
                    f"column {name} holds lists longer than {MAX_LIST_LENGTH}",
                    reason="value_length",
                )


def _malloc_trim() -> None:
    """Hand freed heap pages back to the system (glibc only; elsewhere nothing happens)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)


def release_memory() -> None:
    """Give the memory of a refused upload back: Arrow's pool and the C heap."""
    gc.collect()
    with contextlib.suppress(pa.ArrowException, AttributeError):
        pa.default_memory_pool().release_unused()
    _malloc_trim()
