"""`matcher link`: cases and clusters files, refusals with clear messages, no refs printed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from matcher.steward.hashed_file import HASHED_SCHEMA, HashedFileHeader, write_hashed
from matcher_cli.app import app

runner = CliRunner()


def _write(path: Path, agency: str, refs: list[str], key_check: str = "ab" * 8) -> Path:
    frame = pl.DataFrame(
        {
            "ref": refs,
            "agency": [agency] * len(refs),
            "signal": ["oro"] * len(refs),
            "signal_date": [date(2024, 5, 1)] * len(refs),
            "id_token": [1000 + i for i in range(len(refs))],
            "name_tokens": [[]] * len(refs),
            "block_tokens": [[]] * len(refs),
            "bloom": [None] * len(refs),
        },
        schema_overrides=HASHED_SCHEMA,  # field-level columns: added empty by the writer
    )
    header = HashedFileHeader(
        round_id="r1", agency=agency, key_check=key_check, row_count=frame.height
    )
    write_hashed(path, header, frame)
    return path


def test_link_writes_cases_and_clusters(tmp_path: Path) -> None:
    a = _write(tmp_path / "skola.parquet", "skola", ["ref-skola-1", "ref-skola-2"])
    b = _write(tmp_path / "polis.parquet", "polis", ["ref-polis-1"])
    out, clusters = tmp_path / "cases.parquet", tmp_path / "clusters.parquet"
    args = ["link", str(a), str(b), "--out", str(out), "--clusters", str(clusters)]
    result = runner.invoke(app, [*args, "--window-from", "2024-01-01", "--window-to", "2024-12-31"])
    assert result.exit_code == 0, result.output
    cases = pl.read_parquet(out)
    assert sorted(cases["ref"]) == ["ref-polis-1", "ref-skola-1"]
    assert cases["case_id"].n_unique() == 1
    assert pl.read_parquet(clusters).height == 3
    assert "cases" in result.stdout and "ref-" not in result.output
    # existing outputs are kept unless --overwrite
    again = runner.invoke(app, args)
    assert again.exit_code == 5 and "--overwrite" in again.output
    assert runner.invoke(app, [*args, "--overwrite", "--k", "3"]).exit_code == 0
    assert pl.read_parquet(out).height == 0


def test_link_refuses_mixed_keys_and_bad_flags(tmp_path: Path) -> None:
    a = _write(tmp_path / "skola.parquet", "skola", ["ref-skola-1"])
    b = _write(tmp_path / "polis.parquet", "polis", ["ref-polis-1"], key_check="cd" * 8)
    out = tmp_path / "cases.parquet"
    result = runner.invoke(app, ["link", str(a), str(b), "--out", str(out)])
    assert result.exit_code == 7  # KeyMismatchError
    assert "key check values differ" in result.output
    assert "ref-" not in result.output and not out.exists()
    bad_date = runner.invoke(app, ["link", str(a), "--out", str(out), "--window-from", "May"])
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    bad_t = runner.invoke(app, ["link", str(a), "--out", str(out), "--threshold", "2"])
    assert bad_t.exit_code == 2
    missing = runner.invoke(app, ["link", str(tmp_path / "none.parquet"), "--out", str(out)])
    assert missing.exit_code != 0
