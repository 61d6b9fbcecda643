"""The demo end to end, small: every role's output, quality, cleanup and --keep."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from matcher.errors import ConfigError, OutputExistsError
from matcher_cli.app import app
from matcher_cli.demo import run_demo

runner = CliRunner()


def test_demo_round_trip_keeps_files_and_scores_well(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    result = run_demo(children=300, seed=5, keep=keep)
    assert result.kept and result.workspace == keep
    assert result.job["status"] == "done"
    agencies = set(result.stewards)
    assert len(agencies) == 5
    truth = pl.read_parquet(keep / "exports" / "truth.parquet")
    for agency, report in result.stewards.items():
        # Each steward's meeting list holds only its own record ids, re-identified locally.
        own = set(truth.filter(pl.col("agency") == agency)["record_id"])
        assert set(report.meeting_list["record_id"]) <= own
        assert (keep / agency / "meeting-list.csv").exists()
        assert (keep / agency / "hashed.parquet").exists()
        # The hashed file that left the agency holds none of its record ids.
        blob = (keep / agency / "hashed.parquet").read_bytes()
        for record_id in list(own)[:50]:
            assert record_id.encode() not in blob
    # Case ids are shared: the same case appears in the lists of at least two agencies.
    listed = pl.concat(
        [
            r.meeting_list.select("case_id", pl.lit(a).alias("agency"))
            for a, r in result.stewards.items()
        ]
    )
    per_case = listed.group_by("case_id").agg(pl.col("agency").n_unique())
    assert per_case["agency"].min() >= 2  # type: ignore[operator]  # polars types min() as any scalar
    # The coordinator sees cases and agencies, never refs or record ids.
    view = result.coordinator
    assert "ref" not in str(view) and "record_id" not in str(view)
    assert len(view["cases"]) == per_case.height
    quality = result.evaluation
    assert quality.pairs.precision >= 0.97 and quality.pairs.recall >= 0.95
    assert quality.cases.recall >= 0.95


def test_demo_cleans_up_and_refuses_bad_input(tmp_path: Path) -> None:
    result = run_demo(children=120, seed=1, agencies=("skola", "socialtjanst", "polis", "fritid"))
    assert not result.kept and not result.workspace.exists()
    with pytest.raises(ConfigError):
        run_demo(children=50, agencies=("skola", "polis"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    with pytest.raises(OutputExistsError):
        run_demo(children=50, keep=busy)


def test_demo_command_prints_every_role(tmp_path: Path) -> None:
    out = runner.invoke(app, ["demo", "--children", "200", "--seed", "2", "--show", "3"])
    assert out.exit_code == 0, out.output
    for text in ("meeting list", "coordinator: round", "pairwise precision", "deleted"):
        assert text in out.output
