"""Round-trip and validation of the hashed-file format."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.errors import HashedFileError, KeyMismatchError, OutputExistsError
from matcher.steward.hashed_file import (
    FORMAT_VERSION,
    HashedFileHeader,
    HashedFileWriter,
    check_compatible,
    read_hashed,
    read_header,
    to_bytes,
    write_hashed,
)


def _frame(n: int = 3, agency: str = "skola") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ref": [f"r{i:04d}" for i in range(n)],
            "agency": [agency] * n,
            "signal": ["frånvaro"] * n,
            "signal_date": [None] * n,
            "id_token": [i + 1 for i in range(n)],
            "name_tokens": [[7, 8]] * n,
            "block_tokens": [[9]] * n,
            "bloom": [bytes(128)] * n,
        }
    )


def _header(n: int = 3, agency: str = "skola", kcv: str = "ab" * 8) -> HashedFileHeader:
    return HashedFileHeader(round_id="r1", agency=agency, key_check=kcv, row_count=n)


def test_round_trip_path_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "h.parquet"
    write_hashed(path, _header(), _frame())
    hashed = read_hashed(path)
    assert hashed.header.agency == "skola"
    assert hashed.frame.height == 3
    assert read_hashed(to_bytes(_header(), _frame())).frame.equals(hashed.frame)


@given(st.lists(st.integers(0, 4), max_size=5))
def test_written_in_runs_equals_written_at_once(runs: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        whole, parts = Path(tmp) / "whole.parquet", Path(tmp) / "parts.parquet"
        n = sum(runs)
        frame, header = _frame(n), _header(n)
        write_hashed(whole, header, frame)
        with HashedFileWriter(parts, header) as writer:
            start = 0
            for size in runs:
                writer.write(frame.slice(start, size))
                start += size
        assert read_hashed(parts).frame.equals(read_hashed(whole).frame)
        assert read_hashed(parts).header == read_hashed(whole).header


def test_writer_refuses_a_short_file_or_repeated_refs_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.parquet"
    write_hashed(path, _header(), _frame())
    before = path.read_bytes()
    short = HashedFileWriter(path, _header(4), overwrite=True)
    with pytest.raises(HashedFileError, match="rows"), short as writer:
        writer.write(_frame(3))
    repeated = HashedFileWriter(path, _header(6), overwrite=True)
    with pytest.raises(HashedFileError, match="not unique"), repeated as writer:
        writer.write(_frame(3))
        writer.write(_frame(3))  # the same refs again
    failing = HashedFileWriter(path, _header(3), overwrite=True)
    with pytest.raises(RuntimeError), failing as writer:
        writer.write(_frame(3))
        raise RuntimeError("the hashing failed")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.parquet"]


def test_refuses_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "h.parquet"
    write_hashed(path, _header(), _frame())
    with pytest.raises(OutputExistsError):
        write_hashed(path, _header(), _frame())
    write_hashed(path, _header(), _frame(), overwrite=True)


def test_refuses_garbage_and_plain_parquet(tmp_path: Path) -> None:
    with pytest.raises(HashedFileError, match="cannot read"):
        read_hashed(b"not parquet at all")
    plain = tmp_path / "plain.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(plain)
    with pytest.raises(HashedFileError, match="no matcher header"):
        read_hashed(plain)


def test_refuses_a_file_whose_start_is_not_parquet(tmp_path: Path) -> None:
    """Parquet readers look only at the footer; a damaged start is refused all the same."""
    data = b"XXXX" + to_bytes(_header(), _frame())[4:]
    for source in (data, tmp_path / "damaged.parquet"):
        if isinstance(source, Path):
            source.write_bytes(data)
        with pytest.raises(HashedFileError, match="not a Parquet file at its start"):
            read_hashed(source)
        with pytest.raises(HashedFileError, match="not a Parquet file at its start"):
            read_header(source)


def test_refuses_unknown_version() -> None:
    data = to_bytes(_header(), _frame()).replace(
        f'"format_version":{FORMAT_VERSION}'.encode(), b'"format_version":9'
    )
    with pytest.raises(HashedFileError, match="unsupported"):
        read_hashed(data)


def test_refuses_wrong_bloom_length_and_duplicate_refs() -> None:
    bad = _frame().with_columns(pl.lit(bytes(10)).alias("bloom"))
    with pytest.raises(HashedFileError, match="bytes long"):
        to_bytes(_header(), bad)
    dup = _frame().with_columns(pl.lit("same").alias("ref"))
    with pytest.raises(HashedFileError, match="unique"):
        to_bytes(_header(), dup)


def test_check_compatible() -> None:
    check_compatible([_header(), _header(agency="polis")])
    with pytest.raises(KeyMismatchError, match="key check"):
        check_compatible([_header(), _header(agency="polis", kcv="cd" * 8)])
