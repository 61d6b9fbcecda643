"""Report and analysis outputs: JSON, an Excel workbook (xlsxwriter) and PNG charts (matplotlib).

Everything written here comes from the already suppressed report dictionaries: no case id, key or
date of a child reaches a file. Charts plot only figures that were published as numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import xlsxwriter

from matcher.followup.model import CaseFollowUp, overdue


def write_json(report: dict[str, Any], path: Path) -> Path:
    """The report as JSON for the municipality's own statistics tools."""
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return path


def _sheet_name(name: str) -> str:
    return name.replace("cases_", "").replace("_", " ")[:31]


def write_report_xlsx(report: dict[str, Any], path: Path) -> Path:
    """One sheet per table, plus shares and times; suppressed cells stay as their marks."""
    with xlsxwriter.Workbook(str(path)) as wb:
        bold = wb.add_format({"bold": True})
        for name, grid in report["tables"].items():
            ws = wb.add_worksheet(_sheet_name(name))
            cols = list(next(iter(grid.values())).keys()) if grid else []
            ws.write_row(0, 0, ["round", *cols], bold)
            for i, (row, vals) in enumerate(grid.items(), start=1):
                ws.write_row(i, 0, [row, *(vals[c] for c in cols)])
        ws = wb.add_worksheet("shares and times")
        ws.write_row(0, 0, ["measure", "round", "value / n", "q1", "median", "q3"], bold)
        i = 1
        for ind, by_round in report["shares"].items():
            for r, v in by_round.items():
                ws.write_row(i, 0, [ind, r, "x" if v is None else v])
                i += 1
        for measure, by_round in report["times"].items():
            for r, q in by_round.items():
                ws.write_row(i, 0, [measure, r, q["n"], q["q1"], q["median"], q["q3"]])
                i += 1
        ws.write(i + 1, 0, report["note"])
    return path


def write_activity_xlsx(cases: list[CaseFollowUp], path: Path, today: Any) -> Path:
    """The activity list (one row per action) and the overdue actions; categories and dates only."""
    with xlsxwriter.Workbook(str(path)) as wb:
        bold = wb.add_format({"bold": True})
        head = ["case", "round", "meeting", "step", "action", "agency", "due", "status", "done"]
        ws = wb.add_worksheet("activity list")
        ws.write_row(0, 0, [*head, "follow-up", "outcome"], bold)
        i = 1
        for c in cases:
            for a in c.actions or (None,):
                ws.write_row(
                    i,
                    0,
                    [
                        c.case_id,
                        c.round_id,
                        str(c.meeting_date or ""),
                        str(c.step or ""),
                        a.action_type if a else "",
                        a.agency if a else "",
                        str(a.due) if a else "",
                        str(a.status) if a else "",
                        str(a.done_on or "") if a else "",
                        str(c.follow_up_date or ""),
                        str(c.outcome),
                    ],
                )
                i += 1
        ws = wb.add_worksheet("overdue")
        ws.write_row(0, 0, ["case", "action", "agency", "due", "status"], bold)
        for j, (cid, _, a) in enumerate(overdue(cases, today), start=1):
            ws.write_row(j, 0, [cid, a.action_type, a.agency, str(a.due), str(a.status)])
    return path


def _num(v: Any) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0


def report_charts(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Cases per round by number of agencies (stacked), and the three shares per round."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rounds = report["rounds"]
    paths = []
    grid = report["tables"]["cases_by_number_of_agencies"]
    sizes = [k for k in next(iter(grid.values())) if k != "total"] if grid else []
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = [0.0] * len(rounds)
    for s in sizes:
        vals = [_num(grid[r][s]) for r in rounds]
        ax.bar(rounds, vals, bottom=bottom, label=f"{s} agencies")
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("cases (suppressed cells left out)")
    ax.set_title("Cases per round by number of agencies")
    ax.legend()
    fig.tight_layout()
    paths.append(out_dir / "report_cases_by_agencies.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    for ind, by_round in report["shares"].items():
        ax.plot(
            rounds,
            [by_round[r] if by_round[r] is not None else float("nan") for r in rounds],
            marker="o",
            label=ind.replace("_", " "),
        )
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of cases")
    ax.set_title(f"Follow-up per round (discussed within {report['within_days']} days)")
    ax.legend()
    fig.tight_layout()
    paths.append(out_dir / "report_shares.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths


def analysis_charts(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Earlier signals per agency (outcome vs comparison), lead-time histogram, commonest orders."""
    out_dir.mkdir(parents=True, exist_ok=True)
    agencies = result["agencies"]
    paths = []
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.4
    for k, group in enumerate(("outcome", "comparison")):
        n = _num(result[group]["children"]) or 1.0
        shares = [_num(result[group]["signal_at"][a]) / n for a in agencies]
        ax.bar([i + k * width for i in range(len(agencies))], shares, width, label=group)
    ax.set_xticks([i + width / 2 for i in range(len(agencies))], agencies)
    ax.set_ylabel("share with an earlier signal")
    ax.set_title("Earlier signals per agency: children with the outcome vs comparison")
    ax.legend()
    fig.tight_layout()
    paths.append(out_dir / "analysis_signals_by_agency.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 4))
    hist = result["outcome"]["months_histogram"]
    ax.bar(list(hist), [_num(v) for v in hist.values()])
    ax.set_xlabel("months from first signal to outcome")
    ax.set_ylabel("children")
    ax.set_title("Lead time from the first signal (any agency) to the outcome")
    fig.tight_layout()
    paths.append(out_dir / "analysis_lead_time.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    orders = [
        o
        for o in result["outcome"]["orders"]
        if isinstance(o["children"], int) and o["order"] != "(other orders)"
    ][::-1]
    ax.barh([o["order"] for o in orders], [o["children"] for o in orders])
    ax.set_xlabel("children with the outcome")
    ax.set_title("Commonest orders of first signals before the outcome")
    fig.tight_layout()
    paths.append(out_dir / "analysis_orders.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths
