"""`matcher case ...` and `matcher report ...` against a real service (SQLite and PostgreSQL):
access rules, outputs, no case ids leaked."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from matcher.evaluation.synth_histories import histories
from matcher_cli.app import app
from matcher_cli.client import ClientSettings, MatcherClient
from tests.api.factories import AGENCIES, COORDINATOR_TOKEN, hashed_bytes

runner = CliRunner()
CASES = [("skola", "polis")] * 4 + [("skola", "socialtjanst")] * 3 + [("polis", "socialtjanst")]


def _run(*args: str, server: str, token: str = COORDINATOR_TOKEN, ok: bool = True) -> str:
    env = {"MATCHER_SERVER": server, "MATCHER_TOKEN": token}
    result = runner.invoke(app, list(args), env=env)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def _round(server: str, tmp_path: Path) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    """A matched round on the service; returns its id, tokens and case ids by agency set."""
    settings = ClientSettings(server=server, token=COORDINATOR_TOKEN)
    with MatcherClient(settings) as client:
        created = client.create_round(
            {"id": "cli-case", "name": "x", "legal_basis": "consent", "agencies": AGENCIES}
        )
        tokens = created["agency_tokens"]
        for agency in AGENCIES:
            people = [i for i, c in enumerate(CASES, start=1) if agency in c]
            path = tmp_path / f"{agency}.parquet"
            path.write_bytes(hashed_bytes("cli-case", agency, people))
            with MatcherClient(ClientSettings(server=server, token=tokens[agency])) as steward:
                steward.upload("cli-case", path)
        client.start_match("cli-case")
        assert client.wait_for_match("cli-case", poll=0.05)["status"] == "done"
        found = client.round_results("cli-case")["cases"]
    ids: dict[str, list[str]] = {}
    for case in found:
        ids.setdefault("+".join(sorted(case["agencies"])), []).append(case["case_id"])
    return "cli-case", tokens, ids


def test_agency_lists_only_its_own_cases(server: str, tmp_path: Path) -> None:
    round_id, tokens, ids = _round(server, tmp_path)
    for case_id in ids["polis+skola"] + ids["skola+socialtjanst"]:
        _run("case", "record", round_id, "--case", case_id, "--step", "conversation",
             server=server)  # fmt: skip
    polis = _run("case", "list", round_id, "--own", server=server, token=tokens["polis"])
    assert all(cid in polis for cid in ids["polis+skola"])
    assert not any(cid in polis for cid in ids["skola+socialtjanst"])
    everything = _run("case", "list", round_id, server=server)
    assert all(cid in everything for cid in ids["skola+socialtjanst"])
    refused = _run("case", "list", round_id, server=server, token=tokens["polis"], ok=False)
    assert "403" in refused  # an agency's token without --own is not the coordinator


def test_coordinator_adds_agency_updates_only_its_own(server: str, tmp_path: Path) -> None:
    round_id, tokens, ids = _round(server, tmp_path)
    cid = ids["skola+socialtjanst"][0]
    out = _run("case", "action", round_id, "--case", cid, "--type", "home_visit",
               "--responsible", "socialtjanst", "--due", "2025-06-01", server=server)  # fmt: skip
    assert "action 1 added" in out
    outsider = _run("case", "update", round_id, "--case", cid, "--action", "1", "--status",
                    "done", "--own", server=server, token=tokens["polis"], ok=False)  # fmt: skip
    assert "404" in outsider
    partner = _run("case", "update", round_id, "--case", cid, "--action", "1", "--status",
                   "done", "--own", server=server, token=tokens["skola"], ok=False)  # fmt: skip
    assert "404" in partner  # skola is in the case, but the action is socialtjanst's
    _run("case", "update", round_id, "--case", cid, "--action", "1", "--status", "done",
         "--own", server=server, token=tokens["socialtjanst"])  # fmt: skip
    with MatcherClient(ClientSettings(server=server, token=COORDINATOR_TOKEN)) as client:
        case = next(c for c in client.followups(round_id) if c["case_id"] == cid)
    assert case["actions"][0]["status"] == "done"
    _run(
        "case",
        "update",
        round_id,
        "--case",
        cid,
        "--action",
        "1",
        "--status",
        "ongoing",
        server=server,
    )  # fmt: skip  (the coordinator edits any action)
    with MatcherClient(ClientSettings(server=server, token=COORDINATOR_TOKEN)) as client:
        case = next(c for c in client.followups(round_id) if c["case_id"] == cid)
    assert case["actions"][0]["status"] == "ongoing" and case["actions"][0]["done_on"] is None
    out = _run("case", "update", round_id, "--case", cid, "--action", "2", "--status", "done",
               server=server, ok=False)  # fmt: skip
    assert "no action with this number" in out


def test_unknown_action_type_is_refused_without_echo(server: str, tmp_path: Path) -> None:
    round_id, _, ids = _round(server, tmp_path)
    cid = ids["polis+skola"][0]
    out = _run("case", "action", round_id, "--case", cid, "--type", "Anna Andersson",
               "--responsible", "skola", "--due", "2025-06-01",
               server=server, ok=False)  # fmt: skip
    assert "Anna" not in out and "422" in out
    out = _run("case", "action", round_id, "--case", "K99999", "--type", "mentor",
               "--responsible", "skola", "--due", "2025-06-01",
               server=server, ok=False)  # fmt: skip
    assert "404" in out


def test_action_types_are_configured_from_the_cli(server: str, tmp_path: Path) -> None:
    round_id, tokens, ids = _round(server, tmp_path)
    assert "Hembesök" in _run("case", "types", server=server, token=tokens["skola"])
    out = _run("case", "types", "--set", "samtal=Samtal med vårdnadshavare", "--set",
               "mentor=Mentor", server=server)  # fmt: skip
    assert "samtal" in out and "home_visit" not in out
    cid = ids["polis+skola"][0]
    _run("case", "action", round_id, "--case", cid, "--type", "home_visit", "--responsible",
         "skola", "--due", "2025-06-01", server=server, ok=False)  # fmt: skip
    _run("case", "action", round_id, "--case", cid, "--type", "samtal", "--responsible",
         "skola", "--due", "2025-06-01", server=server)  # fmt: skip
    _run("case", "types", "--set", "bad", server=server, ok=False)


def test_report_followup_and_overdue_and_export(server: str, tmp_path: Path) -> None:
    round_id, tokens, ids = _round(server, tmp_path)
    every = [cid for group in ids.values() for cid in group]
    for cid in every:
        _run("case", "record", round_id, "--case", cid, "--meeting", "2026-11-10", "--step",
             "shared_view", "--outcome", "open", server=server)  # fmt: skip
    cid = ids["polis+skola"][0]
    _run("case", "action", round_id, "--case", cid, "--type", "mentor", "--responsible",
         "polis", "--due", "2026-01-01", server=server)  # fmt: skip
    out = tmp_path / "rep"
    _run("report", "followup", "--round", round_id, "--out", str(out), server=server)
    text = (out / "report.json").read_text()
    assert not any(c in text for c in every)
    assert "records_by_round_and_agency" in text
    assert (out / "report.xlsx").exists() and (out / "report_shares.png").exists()
    period = tmp_path / "period"
    _run("report", "followup", "--from", "2000-01-01", "--out", str(period), server=server)
    assert json.loads((period / "report.json").read_text())["rounds"] == [round_id]
    assert cid in _run("case", "overdue", round_id, server=server)
    assert cid in _run("case", "overdue", round_id, "--own", server=server, token=tokens["polis"])
    res = _run("case", "export", round_id, "--out", str(tmp_path / "a.xlsx"), server=server)
    assert "wrote" in res and (tmp_path / "a.xlsx").exists()


def test_round_create_opens_an_analysis_round(server: str) -> None:
    out = _run("round", "create", "--id", "cli-an", "--name", "Placeringar", "--legal-basis",
               "consent", "--agency", "skola", "--agency", "placering", "--kind", "analysis",
               server=server)  # fmt: skip
    assert "analysis round" in out
    assert "analysis" in _run("round", "list", server=server)
    out = _run("round", "cases", "cli-an", server=server, ok=False)
    assert "409" in out


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
