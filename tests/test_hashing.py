"""The steward pipeline: hash_records (frame, refs, map, chunks) and hash_export (three files)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TypedDict

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher._numba_config import PARALLEL_MIN_ITEMS
from matcher.errors import ConfigError, InputFileError, OutputExistsError
from matcher.steward import hashing
from matcher.steward.hashed_file import HASHED_SCHEMA, check_compatible, read_hashed, to_bytes
from matcher.steward.hashing import hash_export, hash_records, new_refs
from matcher.steward.keys import RoundKeys
from matcher.steward.tokens import TOKEN_KINDS
from tests.strategies import normalised_records, records_frame

SECRET = bytes(range(32))
REFERENCE = date(2026, 11, 1)
CSV = (
    "Ärende-ID;Personnummer;Förnamn;Efternamn;Födelsedatum;Signal;Datum;Anteckning\n"
    "A-1;20120517-1232;Anna Maria;Andersson;;frånvaro;2026-09-01;fri text\n"
    "A-2;;Erik;Lind-Berg;2011-03-04;orosanmälan;2026-09-02;\n"
    "A-3;;;;;frånvaro;2026-09-03;bara anteckning\n"
    "A-4;130202-1231;Åsa;Öberg;2013-02-02;frånvaro;2026-09-04;\n"
)


def _people(n: int) -> pl.DataFrame:
    person = {
        "record_id": "x",
        "pnr": None,
        "pnr_kind": None,
        "given_names": ["anna"],
        "surnames": ["berg"],
        "birth_date": date(2012, 1, 1),
        "signal": None,
        "signal_date": None,
    }
    return records_frame([person] * n)


def _synthetic_records(n: int) -> pl.DataFrame:
    """``n`` varied records: names from small lists, dates over 18 years, some numbers."""
    given = ["anna", "erik", "maria", "ali", "sara", "jonas", "emma", "noah"]
    surname = ["berg", "lind", "andersson", "nilsson", "ek", "holm"]
    people = [
        {
            "record_id": str(i),
            "pnr": f"2010{i % 10_000:08d}" if i % 3 else None,
            "pnr_kind": "personnummer" if i % 3 else None,
            "given_names": [given[i % 8], given[(i // 8) % 8]][: 1 + i % 2],
            "surnames": [surname[(i // 64) % 6], surname[i % 6]][: 1 + (i % 5 == 0)],
            "birth_date": date(2005 + i % 18, 1 + i % 12, 1 + i % 28) if i % 7 else None,
            "signal": None,
            "signal_date": None,
        }
        for i in range(n)
    ]
    return records_frame(people)


def _hash(records: pl.DataFrame, **kwargs):
    return hash_records(records, secret=SECRET, round_id="r1", agency="skola", **kwargs)


@given(normalised_records())
def test_hashed_frame_is_a_valid_hashed_file(records: pl.DataFrame) -> None:
    hashed, local_map = _hash(records)
    assert hashed.frame.schema == pl.Schema(HASHED_SCHEMA)
    back = read_hashed(to_bytes(hashed.header, hashed.frame))
    assert back.frame.equals(hashed.frame)
    assert hashed.header.key_check == RoundKeys.derive(SECRET, "r1").key_check
    assert hashed.header.token_kinds == TOKEN_KINDS
    assert hashed.header.row_count == records.height
    assert local_map.columns == ["ref", "record_id", "row"]
    assert local_map["ref"].to_list() == hashed.frame["ref"].to_list()
    assert local_map["record_id"].to_list() == records["record_id"].to_list()
    assert local_map["row"].to_list() == records["row"].to_list()
    assert hashed.frame["signal"].to_list() == records["signal"].to_list()


@given(normalised_records(min_rows=1), st.integers(1, 5))
def test_chunks_do_not_change_the_result(records: pl.DataFrame, chunk: int) -> None:
    whole, _ = _hash(records)
    parts, _ = _hash(records, chunk_rows=chunk)
    columns = ["id_token", "name_tokens", "block_tokens", "bloom", "signal", "signal_date"]
    assert parts.frame.select(columns).equals(whole.frame.select(columns))


def test_chunks_side_by_side_equal_one_parallel_pass() -> None:
    """Chunks hashed in a thread pool (sequential kernels) = one chunk (parallel kernels)."""
    records = _synthetic_records(2 * PARALLEL_MIN_ITEMS + 17)
    whole, _ = _hash(records, chunk_rows=records.height)
    parts, _ = _hash(records, chunk_rows=PARALLEL_MIN_ITEMS // 2)
    columns = ["id_token", "name_tokens", "block_tokens", "bloom"]
    assert parts.frame.select(columns).equals(whole.frame.select(columns))


def test_refs_are_random_unique_and_opaque() -> None:
    refs = new_refs(10_000)
    assert refs.n_unique() == 10_000
    assert all(re.fullmatch(r"[0-9a-f]{16}", r) for r in refs.to_list())
    assert set(new_refs(100).to_list()).isdisjoint(new_refs(100).to_list())


def test_progress_is_reported_per_chunk() -> None:
    records = _people(7)
    seen: list[tuple[int, int]] = []
    _hash(records, chunk_rows=3, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]


def test_same_key_and_round_are_compatible_and_others_not() -> None:
    records = _people(2)
    a, _ = _hash(records)
    b, _ = hash_records(records, secret=SECRET, round_id="r1", agency="polis")
    check_compatible([a.header, b.header])
    c, _ = hash_records(records, secret=bytes(32), round_id="r1", agency="polis")
    with pytest.raises(Exception, match="key check"):
        check_compatible([a.header, c.header])


def test_records_with_missing_columns_are_refused() -> None:
    with pytest.raises(ConfigError):
        _hash(pl.DataFrame({"row": [1]}))


def test_bad_round_or_agency_labels_are_config_errors() -> None:
    for round_id, agency in (("", "skola"), ("r1", ""), ("r1", "x" * 101), ("r\n1", "skola")):
        with pytest.raises(ConfigError):
            hash_records(_people(1), secret=SECRET, round_id=round_id, agency=agency)


class _Outputs(TypedDict):
    """The three output paths of ``hash_export``, by keyword."""

    out: Path
    map_path: Path
    rejects_path: Path


def _files(tmp_path: Path) -> _Outputs:
    return {
        "out": tmp_path / "hashed.parquet",
        "map_path": tmp_path / "map.parquet",
        "rejects_path": tmp_path / "rejects.csv",
    }


def _export(tmp_path: Path, text: str = CSV, **kwargs):
    src = tmp_path / "export.csv"
    if not src.exists():
        src.write_text(text, encoding="utf-8")
    return src, hash_export(
        src,
        secret=SECRET,
        round_id="r1",
        agency="skola",
        reference_date=REFERENCE,
        **_files(tmp_path),
        **kwargs,
    )


def test_hash_export_end_to_end(tmp_path: Path) -> None:
    src, summary = _export(tmp_path)
    before = src.read_bytes()
    assert summary.rows_read == 4
    assert summary.rows_hashed == 3
    assert summary.rows_with_id == 2
    assert sum(summary.rejected.values()) == 1
    hashed = read_hashed(tmp_path / "hashed.parquet")
    assert hashed.frame.height == 3 and hashed.header.agency == "skola"
    assert hashed.header.reference_date == REFERENCE
    local_map = pl.read_parquet(tmp_path / "map.parquet")
    assert local_map["record_id"].to_list() == ["A-1", "A-2", "A-4"]
    assert set(local_map["ref"]) == set(hashed.frame["ref"])
    rejects = pl.read_csv(tmp_path / "rejects.csv")
    assert rejects.columns == ["file", "row", "column", "reason", "action"]
    assert rejects.filter(pl.col("action") == "row_rejected")["row"].to_list() == [4]
    raw = (tmp_path / "rejects.csv").read_text()
    assert "bara anteckning" not in raw and "Anna" not in raw
    assert src.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_hash_export_writes_rows_in_ref_order_not_export_order(tmp_path: Path) -> None:
    """Row order would link one round's file to the next (issue 12): rows go out by random ref,
    and the local map still joins each ref to its record."""
    _export(tmp_path)
    hashed = read_hashed(tmp_path / "hashed.parquet")
    assert hashed.frame["ref"].to_list() == sorted(hashed.frame["ref"].to_list())
    local_map = pl.read_parquet(tmp_path / "map.parquet")
    joined = hashed.frame.join(local_map, on="ref")
    assert joined.height == hashed.frame.height
    assert sorted(joined["record_id"].to_list()) == ["A-1", "A-2", "A-4"]


def test_hash_export_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    _export(tmp_path)
    first = (tmp_path / "hashed.parquet").read_bytes()
    with pytest.raises(OutputExistsError):
        _export(tmp_path)
    assert (tmp_path / "hashed.parquet").read_bytes() == first
    _export(tmp_path, overwrite=True)
    assert (tmp_path / "hashed.parquet").read_bytes() != first  # fresh random refs


@pytest.mark.parametrize("failing", ["hashing", "map"])
def test_a_failure_midway_leaves_the_old_outputs_and_no_partial_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    _export(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    if failing == "hashing":
        monkeypatch.setattr(hashing, "compute_tokens", broken)
    else:
        monkeypatch.setattr(pl.DataFrame, "write_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        _export(tmp_path, overwrite=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_hash_export_never_writes_over_its_input(tmp_path: Path) -> None:
    src = tmp_path / "export.csv"
    src.write_text(CSV, encoding="utf-8")
    with pytest.raises(ConfigError):
        hash_export(
            src,
            secret=SECRET,
            round_id="r1",
            agency="skola",
            reference_date=REFERENCE,
            out=src,
            map_path=tmp_path / "m.parquet",
            rejects_path=tmp_path / "r.csv",
            overwrite=True,
        )
    assert src.read_text(encoding="utf-8") == CSV


def test_nothing_usable_fails_but_writes_rejects(tmp_path: Path) -> None:
    text = "Personnummer;Förnamn;Efternamn\n123;;\n;;Andersson\n"
    with pytest.raises(InputFileError) as err:
        _export(tmp_path, text)
    assert "Andersson" not in str(err.value)
    assert (tmp_path / "rejects.csv").exists()
    assert not (tmp_path / "hashed.parquet").exists()
