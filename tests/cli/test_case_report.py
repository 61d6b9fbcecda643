"""`matcher case ...` and `matcher report ...`: access rules, outputs, no case ids leaked."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from matcher.evaluation.synth_histories import follow_ups, histories
from matcher.followup.codec import case_to_dict
from matcher_cli.app import app

runner = CliRunner()


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "activity.json"
    cases = follow_ups(rounds=2, cases_per_round=25, seed=4)
    path.write_text(json.dumps([case_to_dict(c) for c in cases]))
    return path


def test_agency_lists_only_its_own_cases(tmp_path: Path) -> None:
    path = _file(tmp_path)
    rows = json.loads(path.read_text())
    polis = [r["case_id"] for r in rows if "polis" in r["agencies"]]
    other = [r["case_id"] for r in rows if "polis" not in r["agencies"]]
    res = runner.invoke(app, ["case", "list", str(path), "--agency", "polis"])
    assert res.exit_code == 0, res.output
    assert all(cid in res.output for cid in polis[:3])
    assert not any(cid in res.output for cid in other)


def test_coordinator_adds_agency_updates_only_its_own(tmp_path: Path) -> None:
    path = _file(tmp_path)
    rows = json.loads(path.read_text())
    pos, row = next((i, r) for i, r in enumerate(rows) if len(r["agencies"]) < 3)
    everyone = {a for r in rows for a in r["agencies"]}
    cid, agencies = row["case_id"], row["agencies"]
    res = runner.invoke(
        app,
        [
            "case",
            "action",
            str(path),
            "--case",
            cid,
            "--type",
            "home_visit",
            "--responsible",
            agencies[0],
            "--due",
            "2025-06-01",
        ],
    )
    assert res.exit_code == 0, res.output
    n = len(json.loads(path.read_text())[pos]["actions"])
    outsider = sorted(everyone - set(agencies))[0]
    res = runner.invoke(
        app,
        [
            "case",
            "update",
            str(path),
            "--case",
            cid,
            "--action",
            str(n),
            "--status",
            "done",
            "--agency",
            outsider,
        ],
    )
    assert res.exit_code != 0 and "no such case" in res.output
    res = runner.invoke(
        app,
        [
            "case",
            "update",
            str(path),
            "--case",
            cid,
            "--action",
            str(n),
            "--status",
            "done",
            "--agency",
            agencies[0],
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(path.read_text())[pos]["actions"][-1]["status"] == "done"


def test_unknown_action_type_is_refused_without_echo(tmp_path: Path) -> None:
    path = _file(tmp_path)
    cid = json.loads(path.read_text())[0]["case_id"]
    res = runner.invoke(
        app,
        [
            "case",
            "action",
            str(path),
            "--case",
            cid,
            "--type",
            "Anna Andersson",
            "--responsible",
            "x",
            "--due",
            "2025-06-01",
        ],
    )
    assert res.exit_code != 0 and "Anna" not in res.output


def test_report_followup_and_overdue_and_export(tmp_path: Path) -> None:
    path = _file(tmp_path)
    out = tmp_path / "rep"
    res = runner.invoke(app, ["report", "followup", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = (out / "report.json").read_text()
    assert not any(r["case_id"] in text for r in json.loads(path.read_text()))
    assert (out / "report.xlsx").exists() and (out / "report_shares.png").exists()
    assert runner.invoke(app, ["case", "overdue", str(path)]).exit_code == 0
    res = runner.invoke(app, ["case", "export", str(path), "--out", str(tmp_path / "a.xlsx")])
    assert res.exit_code == 0 and (tmp_path / "a.xlsx").exists()


def test_report_analysis_from_parquet(tmp_path: Path) -> None:
    h = histories(children=2000, seed=5)
    h.signals.write_parquet(tmp_path / "s.parquet")
    h.outcomes.write_parquet(tmp_path / "o.parquet")
    res = runner.invoke(
        app,
        [
            "report",
            "analysis",
            "--signals",
            str(tmp_path / "s.parquet"),
            "--outcomes",
            str(tmp_path / "o.parquet"),
            "--out",
            str(tmp_path / "an"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "c00" not in (tmp_path / "an" / "analysis.json").read_text()


def test_demo_analysis_shows_aggregates_only(tmp_path: Path) -> None:
    res = runner.invoke(app, ["demo", "--analysis", "--children", "1000", "--keep", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "commonest paths" in res.output and "c00" not in res.output
    assert (tmp_path / "analysis_lead_time.png").exists()
