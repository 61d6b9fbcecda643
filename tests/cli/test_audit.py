"""`matcher audit`: a thin front end over matcher.attacks.run_suite."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from matcher_cli.app import app

runner = CliRunner()


def test_audit_prints_and_writes_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    args = ["audit", "--records", "200", "--attacks", "dictionary,cross_round"]
    res = runner.invoke(app, [*args, "--age-min", "10", "--age-max", "10", "--json", str(out)])
    assert res.exit_code == 0, res.output
    figures = json.loads(out.read_text())
    assert {f["attack"] for f in figures} == {"dictionary", "cross_round"}
    ours = [f for f in figures if f["target"] == "matcher" and f["column"] == "id_token"]
    assert ours and all(f["reidentified"] == 0 for f in ours)


def test_audit_refuses_an_unknown_attack() -> None:
    res = runner.invoke(app, ["audit", "--attacks", "rainbow"])
    assert res.exit_code != 0
    assert "unknown attacks" in res.output
    assert "Traceback" not in res.output
