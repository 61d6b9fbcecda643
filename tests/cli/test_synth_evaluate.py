"""`matcher synth` and `matcher evaluate`: files, figures, refusals, no record ids printed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from matcher.steward.exports import load_mapping
from matcher.steward.hashing import hash_export
from matcher_cli.app import app

runner = CliRunner()


def _synth(out: Path, *extra: str) -> str:
    args = ["synth", "--out", str(out), "--children", "150", "--seed", "3", *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_synth_writes_exports_truth_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "agencies"
    printed = _synth(
        out, "--agencies", "skola,polis,fritid,bup", "--set", "samordningsnummer_share=0.1"
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["agencies"]) == {"skola", "polis", "fritid", "bup"}
    for info in manifest["agencies"].values():
        assert (out / info["file"]).exists() and (out / info["mapping"]).exists()
    assert (out / "fritid.xlsx").exists()
    truth = pl.read_parquet(out / "truth.parquet")
    assert truth.height == sum(info["rows"] for info in manifest["agencies"].values())
    # what is printed: file names and counts, never a generated record id or name
    for row in truth.head(30).iter_rows(named=True):
        assert row["record_id"] not in printed
    again = runner.invoke(app, ["synth", "--out", str(out), "--children", "150", "--seed", "3"])
    assert again.exit_code == 5 and "--overwrite" in again.output


def test_synth_harsh_profile_is_recorded(tmp_path: Path) -> None:
    out = tmp_path / "harsh"
    _synth(out, "--profile", "harsh")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["profile"] == "harsh"
    truth = pl.read_parquet(out / "truth.parquet")
    assert truth["error_types"].explode().is_in(["name_only", "transliteration"]).any()
    refused = runner.invoke(app, ["synth", "--out", str(tmp_path / "x"), "--profile", "brutal"])
    assert refused.exit_code != 0


def test_synth_refuses_bad_settings(tmp_path: Path) -> None:
    bad_agency = runner.invoke(app, ["synth", "--out", str(tmp_path), "--agencies", "skola,x"])
    assert bad_agency.exit_code == 2 and "unknown agencies" in bad_agency.output
    bad_rate = runner.invoke(app, ["synth", "--out", str(tmp_path), "--id-typo-rate", "2"])
    assert bad_rate.exit_code == 2
    bad_set = runner.invoke(app, ["synth", "--out", str(tmp_path), "--set", "nonsense"])
    assert bad_set.exit_code == 2 and "NAME=VALUE" in bad_set.output


def test_evaluate_with_truth_as_clusters_is_perfect(tmp_path: Path) -> None:
    out = tmp_path / "agencies"
    _synth(out)
    truth = pl.read_parquet(out / "truth.parquet")
    clusters = tmp_path / "clusters.parquet"
    truth.select("agency", "record_id", pl.col("child_id").alias("cluster_id")).write_parquet(
        clusters
    )
    figures = tmp_path / "q.json"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--truth",
            str(out / "truth.parquet"),
            "--clusters",
            str(clusters),
            "--json",
            str(figures),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "pairwise precision" in result.stdout and "1.0000" in result.stdout
    data = json.loads(figures.read_text(encoding="utf-8"))
    assert data["pairwise"]["precision"] == data["pairwise"]["recall"] == 1.0
    for record_id in truth["record_id"].head(20):
        assert record_id not in result.output


def test_evaluate_sweeps_hashed_files_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "agencies"
    _synth(out, "--agencies", "skola,socialtjanst,polis")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    secret = bytes(range(32))
    hashed, maps = [], []
    for name, info in manifest["agencies"].items():
        h, m = tmp_path / f"{name}.hashed.parquet", tmp_path / f"{name}.map.parquet"
        hash_export(
            out / info["file"],
            secret=secret,
            round_id="round-1",
            agency=name,
            out=h,
            map_path=m,
            rejects_path=tmp_path / f"{name}.rejects.csv",
            reference_date=date.fromisoformat(manifest["reference_date"]),
            columns=load_mapping(out / info["mapping"]).columns,
        )
        hashed += ["--sweep", str(h)]
        maps += ["--maps", str(m)]
    plot = tmp_path / "sweep.png"
    args = ["evaluate", "--truth", str(out / "truth.parquet"), *hashed, *maps]
    result = runner.invoke(app, [*args, "--thresholds", "0.7,0.9", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "threshold sweep" in result.stdout and "chosen threshold" in result.stdout
    assert plot.read_bytes().startswith(b"\x89PNG")
    no_maps = runner.invoke(app, ["evaluate", "--truth", str(out / "truth.parquet"), *hashed])
    assert no_maps.exit_code == 2 and "--maps" in no_maps.output
    nothing = runner.invoke(app, ["evaluate", "--truth", str(out / "truth.parquet")])
    assert nothing.exit_code == 2
    bad = runner.invoke(app, [*args, "--thresholds", "0,1.5"])
    assert bad.exit_code == 2
    # folders work too: hashed files and maps are picked out of the same folder
    folder = ["--sweep", str(tmp_path), "--maps", str(tmp_path), "--thresholds", "0.8"]
    by_folder = runner.invoke(app, ["evaluate", "--truth", str(out / "truth.parquet"), *folder])
    assert by_folder.exit_code == 0, by_folder.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = runner.invoke(
        app, ["evaluate", "--truth", str(out / "truth.parquet"), "--sweep", str(empty), *maps]
    )
    assert none.exit_code == 2 and "no hashed files" in none.output
