"""Follow-up report: suppressed, no case ids in any output, workbook and charts written."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.evaluation.synth_histories import follow_ups, histories
from matcher.followup.analysis import AnalysisInput, analyse
from matcher.followup.outputs import (
    analysis_charts,
    report_charts,
    write_activity_xlsx,
    write_json,
    write_report_xlsx,
)
from matcher.followup.report import follow_up_report

CASES = follow_ups(rounds=3, cases_per_round=30, seed=1)


def _xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_report_has_no_small_count_and_no_case_id(tmp_path: Path) -> None:
    records = {(c.round_id, a): 3 + i for i, c in enumerate(CASES[:40]) for a in c.agencies}
    rep = follow_up_report(CASES, records=records, threshold=5)
    for grid in rep["tables"].values():
        for row in grid.values():
            for v in row.values():
                assert not (isinstance(v, int) and 0 < v < 5)
    paths = [
        write_json(rep, tmp_path / "r.json"),
        write_report_xlsx(rep, tmp_path / "r.xlsx"),
        *report_charts(rep, tmp_path),
    ]
    text = (tmp_path / "r.json").read_text() + _xlsx_text(tmp_path / "r.xlsx")
    assert not any(c.case_id in text for c in CASES)
    assert all(p.stat().st_size > 0 for p in paths)
    assert json.loads((tmp_path / "r.json").read_text())["rounds"] == rep["rounds"]


def test_activity_workbook_lists_overdue_actions(tmp_path: Path) -> None:
    path = write_activity_xlsx(CASES, tmp_path / "a.xlsx", date(2026, 1, 1))
    text = _xlsx_text(path)
    assert "overdue" in text and CASES[0].case_id in text


def test_analysis_charts_and_json_carry_no_keys(tmp_path: Path) -> None:
    h = histories(children=2000, seed=2)
    res = analyse(AnalysisInput(h.signals, h.outcomes), h.agencies)
    charts = analysis_charts(res, tmp_path)
    assert len(charts) == 3 and all(p.read_bytes()[:4] == b"\x89PNG" for p in charts)
    text = write_json(res, tmp_path / "a.json").read_text()
    assert "c00" not in text


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sets(st.integers(0, 3), min_size=1),
    st.sets(st.integers(0, 3), min_size=1),
)
def test_overlapping_round_reports_are_parts_of_one_safe_publication(
    seed: int, first: set[int], second: set[int]
) -> None:
    cases = follow_ups(rounds=4, cases_per_round=12, seed=seed)
    ids = sorted({c.round_id for c in cases})
    full = follow_up_report(cases)
    for chosen in (first, second):
        part = follow_up_report(cases, show_rounds=[ids[i] for i in chosen])
        assert part["rounds"] == [ids[i] for i in sorted(chosen)]
        for name, grid in part["tables"].items():
            assert "total" not in grid
            for r, row in grid.items():
                assert row == full["tables"][name][r]
