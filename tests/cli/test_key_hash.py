"""`matcher key new/fingerprint` and `matcher hash`: files, modes, exit codes, no values printed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from matcher.steward.hashed_file import read_hashed
from matcher.steward.keys import fingerprint, read_key_file
from matcher_cli.app import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "skola_export.csv"
runner = CliRunner()


def _key(tmp_path: Path) -> Path:
    path = tmp_path / "round.key"
    result = runner.invoke(app, ["key", "new", "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_key_new_writes_0600_and_prints_only_the_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "round.key"
    result = runner.invoke(app, ["key", "new", "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = read_key_file(path)
    assert fingerprint(secret) in result.output
    assert secret.hex() not in result.output and secret.hex()[:16] not in result.output


def test_key_new_refuses_to_overwrite(tmp_path: Path) -> None:
    path = _key(tmp_path)
    before = path.read_bytes()
    result = runner.invoke(app, ["key", "new", "--out", str(path)])
    assert result.exit_code == 5
    assert "Traceback" not in result.output
    assert path.read_bytes() == before


def test_key_fingerprint(tmp_path: Path) -> None:
    path = _key(tmp_path)
    result = runner.invoke(app, ["key", "fingerprint", str(path)])
    assert result.exit_code == 0
    assert result.output.strip() == fingerprint(read_key_file(path))


def test_key_fingerprint_refuses_an_unsafe_file(tmp_path: Path) -> None:
    path = _key(tmp_path)
    os.chmod(path, 0o644)
    result = runner.invoke(app, ["key", "fingerprint", str(path)])
    assert result.exit_code == 4
    assert "chmod 600" in result.output
    missing = runner.invoke(app, ["key", "fingerprint", str(tmp_path / "nope")])
    assert missing.exit_code == 4


def _hash_args(tmp_path: Path, key: Path, src: Path = EXAMPLE) -> list[str]:
    return [
        "hash",
        str(src),
        "--key",
        str(key),
        "--round",
        "r1",
        "--agency",
        "skola",
        "--out",
        str(tmp_path / "hashed.parquet"),
        "--map",
        str(tmp_path / "map.parquet"),
        "--rejects",
        str(tmp_path / "rejects.csv"),
        "--reference-date",
        "2026-11-01",
    ]


def _cells(path: Path) -> set[str]:
    text = path.read_bytes().decode("cp1252")
    cells = {c.strip() for line in text.splitlines()[1:] for c in line.split(";")}
    return {c for c in cells if len(c) >= 4}


def test_hash_end_to_end(tmp_path: Path) -> None:
    key = _key(tmp_path)
    before = EXAMPLE.read_bytes()
    result = runner.invoke(app, _hash_args(tmp_path, key))
    assert result.exit_code == 0, result.output
    for label in ("rows read", "rows hashed", "rows rejected", "key check value", "time"):
        assert label in result.output
    hashed = read_hashed(tmp_path / "hashed.parquet")
    local_map = pl.read_parquet(tmp_path / "map.parquet")
    assert hashed.frame.height == local_map.height > 0
    assert (tmp_path / "rejects.csv").exists()
    assert EXAMPLE.read_bytes() == before
    dates = {"2026-11-01"}
    for cell in _cells(EXAMPLE) - dates:
        assert cell not in result.output


def test_hash_marks_an_outcome_list(tmp_path: Path) -> None:
    key = _key(tmp_path)
    assert runner.invoke(app, _hash_args(tmp_path, key)).exit_code == 0
    assert read_hashed(tmp_path / "hashed.parquet").header.list_kind == "signals"
    result = runner.invoke(app, [*_hash_args(tmp_path, key), "--outcomes", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert read_hashed(tmp_path / "hashed.parquet").header.list_kind == "outcomes"


def test_hash_refuses_existing_outputs_and_overwrites_when_asked(tmp_path: Path) -> None:
    key = _key(tmp_path)
    assert runner.invoke(app, _hash_args(tmp_path, key)).exit_code == 0
    again = runner.invoke(app, _hash_args(tmp_path, key))
    assert again.exit_code == 5 and "--overwrite" in again.output
    forced = runner.invoke(app, [*_hash_args(tmp_path, key), "--overwrite"])
    assert forced.exit_code == 0, forced.output


def test_hash_with_a_bad_key_file_or_input(tmp_path: Path) -> None:
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("not a key\n")
    os.chmod(bad_key, 0o600)
    result = runner.invoke(app, _hash_args(tmp_path, bad_key))
    assert result.exit_code == 4 and "Traceback" not in result.output
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\x01\x02binary\xff\xfe" * 10)
    result = runner.invoke(app, _hash_args(tmp_path, _key(tmp_path), garbage))
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert not (tmp_path / "hashed.parquet").exists()


def test_hash_bad_reference_date(tmp_path: Path) -> None:
    args = _hash_args(tmp_path, _key(tmp_path))
    result = runner.invoke(app, [*args[:-1], "1st of May"])
    assert result.exit_code == 2


def test_hash_warns_loudly_without_a_record_id(tmp_path: Path) -> None:
    lines = EXAMPLE.read_bytes().decode("cp1252").splitlines()
    kept = [";".join(c for i, c in enumerate(line.split(";")) if i != 6) for line in lines]
    src = tmp_path / "utan_id.csv"
    src.write_text("\n".join(kept) + "\n", encoding="utf-8")
    key = _key(tmp_path)
    result = runner.invoke(app, _hash_args(tmp_path, key, src))
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.output and "no record-id column" in result.output
    for cell in _cells(EXAMPLE) - {"2026-11-01"}:
        assert cell not in result.output
    plain = runner.invoke(app, [*_hash_args(tmp_path, key), "--overwrite"])
    assert plain.exit_code == 0 and "WARNING" not in plain.output
