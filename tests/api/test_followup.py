"""Follow-up routes on SQLite and PostgreSQL: access, validation, report, no personal data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select

from matcher_api import db
from tests.api.factories import Api, bearer, round_with_cases


def _body(agencies: list[str] | None, actions: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {} if agencies is None else {"agencies": agencies}
    return body | {
        "round_date": "2026-03-01",
        "earliest_signal": "2025-11-01",
        "meeting_date": "2026-03-10",
        "step": "shared_view",
        "actions": actions,
        "follow_up_date": "2026-06-01",
        "outcome": "open",
    }


def _act(agency: str, action_type: str = "home_visit", due: str = "2026-04-01") -> dict[str, Any]:
    return {"action_type": action_type, "agency": agency, "due": due}


CASES = (("skola", "socialtjanst"), ("polis", "socialtjanst"), ("skola", "polis"))
"""The real cases of :func:`_setup`'s round, in order: K1, K2 and K3 of the checks below."""


def _setup(api: Api) -> tuple[str, dict[str, str], list[str]]:
    """A matched round with three cases; K1 and K2 get activity lists (K3 none yet)."""
    round_id, tokens, ids = round_with_cases(api, CASES)
    k1, k2, _ = ids
    c = api.coordinator
    r = api.client.put(
        f"/rounds/{round_id}/followup/{k1}",
        json=_body(
            ["skola", "socialtjanst"], [_act("skola"), _act("socialtjanst", "family_support")]
        ),
        headers=c,
    )
    assert r.status_code == 200, r.text
    r = api.client.put(
        f"/rounds/{round_id}/followup/{k2}",
        json=_body(["polis", "socialtjanst"], [_act("polis", "police_concern_talk", "2026-03-02")]),
        headers=c,
    )
    assert r.status_code == 200, r.text
    return round_id, tokens, ids


def test_agency_sees_only_own_cases_and_actions(api: Api) -> None:
    round_id, tokens, (k1, k2, _) = _setup(api)
    skola = api.client.get(f"/rounds/{round_id}/followup/own", headers=bearer(tokens["skola"]))
    assert skola.status_code == 200
    assert [c["case_id"] for c in skola.json()["cases"]] == [k1]
    assert [a["agency"] for a in skola.json()["cases"][0]["actions"]] == ["skola"]
    polis = api.client.get(f"/rounds/{round_id}/followup/own", headers=bearer(tokens["polis"]))
    assert [c["case_id"] for c in polis.json()["cases"]] == [k2]
    assert k1 not in polis.text
    full = api.client.get(f"/rounds/{round_id}/followup", headers=api.coordinator).json()["cases"]
    assert sorted((c["case_id"], len(c["actions"])) for c in full) == sorted([(k1, 2), (k2, 1)])


def test_agency_updates_only_its_own_action(api: Api) -> None:
    round_id, tokens, (k1, _, _) = _setup(api)
    base = f"/rounds/{round_id}/followup/own"
    skola, polis = bearer(tokens["skola"]), bearer(tokens["polis"])
    assert (
        api.client.patch(
            f"{base}/{k1}/actions/2", json={"status": "done"}, headers=skola
        ).status_code
        == 404
    )
    assert (
        api.client.patch(
            f"{base}/{k1}/actions/1", json={"status": "done"}, headers=polis
        ).status_code
        == 404
    )
    r = api.client.patch(f"{base}/{k1}/actions/1", json={"status": "done"}, headers=skola)
    assert r.status_code == 200 and r.json()["actions"][0]["status"] == "done"
    assert len(r.json()["actions"]) == 1


def test_roles_are_enforced(api: Api) -> None:
    round_id, tokens, (_, _, k3) = _setup(api)
    agency = bearer(tokens["skola"])
    for method, path in [
        ("put", f"/rounds/{round_id}/followup/{k3}"),
        ("get", f"/rounds/{round_id}/followup"),
        ("get", f"/rounds/{round_id}/followup/overdue"),
        ("get", f"/followup/report?rounds={round_id}"),
    ]:
        r = api.client.request(method, path, headers=agency, json=_body(["skola", "polis"], []))
        assert r.status_code == 403, (method, path)
    r = api.client.put(
        "/followup/action-types",
        headers=agency,
        json={"action_types": [{"code": "x", "label": "X"}]},
    )
    assert r.status_code == 403
    _, other_tokens = api.create_round()
    r = api.client.get(f"/rounds/{round_id}/followup/own", headers=bearer(other_tokens["skola"]))
    assert r.status_code == 403


def test_bad_input_is_422_without_echo(api: Api) -> None:
    round_id, _, (case_id,) = round_with_cases(api, [("skola", "socialtjanst")])
    for body in (
        _body(None, [_act("skola", "Anna Andersson 19010101-1234")]),
        _body(None, [_act("polis")]),
        {**_body(None, []), "note": "free text"},
        {**_body(None, []), "outcome": "Anna"},
    ):
        r = api.client.put(
            f"/rounds/{round_id}/followup/{case_id}", json=body, headers=api.coordinator
        )
        assert r.status_code == 422, r.text
        assert "Anna" not in r.text and "19010101" not in r.text


def test_a_case_id_the_results_do_not_hold_is_404(api: Api) -> None:
    round_id, _, (case_id,) = round_with_cases(api, [("skola", "polis")])
    c = api.coordinator
    for other in ("K99999", "K1", f"{case_id}0"):
        r = api.client.put(f"/rounds/{round_id}/followup/{other}", json=_body(None, []), headers=c)
        assert r.status_code == 404, (other, r.text)
    unmatched, _ = api.create_round()
    r = api.client.put(f"/rounds/{unmatched}/followup/{case_id}", json=_body(None, []), headers=c)
    assert r.status_code == 404
    wrong = _body(["skola", "socialtjanst"], [])
    r = api.client.put(f"/rounds/{round_id}/followup/{case_id}", json=wrong, headers=c)
    assert r.status_code == 422 and r.json()["reason"] == "agencies"
    r = api.client.put(f"/rounds/{round_id}/followup/{case_id}", json=_body(None, []), headers=c)
    assert r.status_code == 200 and r.json()["agencies"] == ["polis", "skola"]


def test_overdue_and_report(api: Api) -> None:
    round_id, _, (k1, k2, k3) = _setup(api)
    r = api.client.put(
        f"/rounds/{round_id}/followup/{k3}",
        json=_body(["skola", "polis"], [_act("skola", "mentor", "2027-01-20")]),
        headers=api.coordinator,
    )
    assert r.status_code == 200, r.text
    r = api.client.get(f"/rounds/{round_id}/followup/overdue", headers=api.coordinator)
    assert r.status_code == 200  # the test clock stands at 2026-11-01
    assert [(o["case_id"], o["action"]) for o in r.json()["actions"]] == [
        (k2, 1),
        (k1, 1),
        (k1, 2),
    ]
    rep = api.client.get(f"/followup/report?rounds={round_id}", headers=api.coordinator)
    assert rep.status_code == 200, rep.text
    assert k1 not in rep.text and k2 not in rep.text
    assert rep.json()["tables"]["cases_by_number_of_agencies"][round_id]["total"] == "<5"


def test_stored_rows_hold_only_codes_and_dates_and_go_with_the_round(
    api: Api, database_url: str
) -> None:
    round_id, _, _ = _setup(api)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(db.CaseFollowUpRow.__table__)).all()
        acts = conn.execute(select(db.FollowUpActionRow.__table__)).all()
    assert len(rows) == 2 and len(acts) == 3
    assert set(rows[0]._mapping) == {
        "round_id",
        "case_id",
        "agencies",
        "round_date",
        "earliest_signal",
        "meeting_date",
        "step",
        "follow_up_date",
        "outcome",
    }
    assert api.client.delete(f"/rounds/{round_id}", headers=api.coordinator).status_code in (
        200,
        204,
    )
    with engine.connect() as conn:
        assert conn.execute(select(db.CaseFollowUpRow.__table__)).all() == []
        assert conn.execute(select(db.FollowUpActionRow.__table__)).all() == []
    engine.dispose()


def test_reports_over_overlapping_rounds_show_the_same_cells(api: Api) -> None:
    first, _, _ = _setup(api)
    second, _, ids = round_with_cases(api, [("skola", "polis")] * 7)
    for case_id in ids:
        r = api.client.put(
            f"/rounds/{second}/followup/{case_id}",
            json=_body(["skola", "polis"], [_act("skola")]),
            headers=api.coordinator,
        )
        assert r.status_code == 200
    c = api.coordinator
    both = api.client.get(f"/followup/report?rounds={first}&rounds={second}", headers=c).json()
    one = api.client.get(f"/followup/report?rounds={second}", headers=c).json()
    assert one["rounds"] == [second]
    for name, grid in one["tables"].items():
        assert "total" not in grid and grid[second] == both["tables"][name][second]
    r = api.client.get("/followup/report?rounds=nowhere", headers=c)
    assert r.status_code == 422


def _outcome_bytes(round_id: str, agency: str, people: list[int], day: str) -> bytes:
    import secrets
    from datetime import date

    import polars as pl

    from matcher.steward.hashed_file import EncodingParams, HashedFileHeader, to_bytes
    from tests.api.factories import KEY_CHECK

    n = len(people)
    frame = pl.DataFrame(
        {
            "ref": [secrets.token_urlsafe(9) for _ in range(n)],
            "agency": [agency] * n,
            "signal": ["placering"] * n,
            "signal_date": [date.fromisoformat(day)] * n,
            "id_token": people,
            "name_tokens": [[]] * n,
            "block_tokens": [[]] * n,
            "bloom": [None] * n,
        },
        schema_overrides={
            "name_tokens": pl.List(pl.UInt64),
            "block_tokens": pl.List(pl.UInt64),
            "id_token": pl.UInt64,
            "bloom": pl.Binary,
        },
    )
    header = HashedFileHeader(
        round_id=round_id, agency=agency, key_check=KEY_CHECK, row_count=n,
        token_kinds=["pnr"], encoding=EncodingParams(bits=1024), list_kind="outcomes",
    )  # fmt: skip
    return to_bytes(header, frame)


def test_analysis_round_returns_aggregates_only(api: Api) -> None:
    from datetime import date

    from tests.api.factories import hashed_bytes

    round_id, tokens = api.create_round(agencies=("skola", "polis", "placering"), kind="analysis")
    people = list(range(1, 41))
    skola = hashed_bytes(round_id, "skola", people, signal_date=date(2024, 1, 10))
    polis = hashed_bytes(round_id, "polis", people[:30], signal_date=date(2024, 6, 1))
    outcome = _outcome_bytes(round_id, "placering", people[:20], "2025-03-01")
    for label, content in (("skola", skola), ("polis", polis), ("placering", outcome)):
        assert api.upload(round_id, tokens[label], content).status_code in (200, 201)
    r = api.client.post(f"/rounds/{round_id}/analysis", headers=api.coordinator)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outcome"]["children"] == 20 and body["comparison"]["children"] == 10
    assert body["outcome"]["signal_at"] == {"polis": 20, "skola": 20}
    assert "ref" not in r.text and "case_id" not in r.text
    agency = api.client.post(f"/rounds/{round_id}/analysis", headers=bearer(tokens["skola"]))
    assert agency.status_code == 403


def test_analysis_without_an_outcome_list_is_422(api: Api) -> None:
    from tests.api.factories import hashed_bytes

    round_id, tokens = api.create_round(kind="analysis")
    assert api.upload(
        round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1, 2])
    ).status_code in (200, 201)
    r = api.client.post(f"/rounds/{round_id}/analysis", headers=api.coordinator)
    assert r.status_code == 422, r.text


def test_action_types_are_configured_and_checked(api: Api) -> None:
    round_id, tokens, (case_id,) = round_with_cases(api, [("skola", "polis")])
    c = api.coordinator
    default = api.client.get("/followup/action-types", headers=bearer(tokens["skola"]))
    assert default.status_code == 200
    labels = {t["code"]: t["label"] for t in default.json()["action_types"]}
    assert labels["home_visit"] == "Hembesök" and "sip_meeting" in labels
    mine = {"action_types": [{"code": "samtal", "label": "Samtal med vårdnadshavare"}]}
    r = api.client.put("/followup/action-types", headers=c, json=mine)
    assert r.status_code == 200, r.text
    assert api.client.get("/followup/action-types", headers=c).json() == mine
    path = f"/rounds/{round_id}/followup/{case_id}"
    r = api.client.put(path, headers=c, json=_body(None, [_act("skola", "home_visit")]))
    assert r.status_code == 422 and r.json()["reason"] == "invalid_action"
    r = api.client.put(path, headers=c, json=_body(None, [_act("skola", "samtal")]))
    assert r.status_code == 200, r.text
    bad: dict[str, Any]
    for bad in (
        {"action_types": []},
        {"action_types": [{"code": "a", "label": "A"}, {"code": "a", "label": "B"}]},
        {"action_types": [{"code": "Anna Andersson", "label": "x"}]},
        {"action_types": [{"code": "a", "label": "<script>"}]},
    ):
        r = api.client.put("/followup/action-types", headers=c, json=bad)
        assert r.status_code == 422, bad
        assert "Anna" not in r.text
    assert api.client.get("/followup/action-types", headers=c).json() == mine


def test_report_has_records_per_agency_and_round_suppressed(api: Api) -> None:
    round_id, _, ids = round_with_cases(api, [("skola", "polis")] * 6 + [("skola", "socialtjanst")])
    for case_id in ids:
        r = api.client.put(
            f"/rounds/{round_id}/followup/{case_id}", json=_body(None, []), headers=api.coordinator
        )
        assert r.status_code == 200, r.text
    rep = api.client.get(f"/followup/report?rounds={round_id}", headers=api.coordinator)
    assert rep.status_code == 200, rep.text
    records = rep.json()["tables"]["records_by_round_and_agency"][round_id]
    assert records["skola"] == 7 and records["socialtjanst"] == "<5"
    assert list(records.values()).count("x") >= 1  # so 1 is not total - skola - polis
    assert not any(isinstance(v, int) and 0 < v < 5 for v in records.values())


def test_published_cells_are_stored_without_case_ids_and_reused(
    api: Api, database_url: str
) -> None:
    round_id, _, ids = round_with_cases(api, [("skola", "polis")] * 8)
    c = api.coordinator
    for case_id in ids:
        r = api.client.put(
            f"/rounds/{round_id}/followup/{case_id}", json=_body(None, []), headers=c
        )
        assert r.status_code == 200
    first = api.client.get(f"/followup/report?rounds={round_id}", headers=c).json()
    again = api.client.get(f"/followup/report?rounds={round_id}", headers=c).json()
    assert first == again  # what went out before withholds nothing more while nothing changed
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(db.PublishedCellRow.__table__)).all()
    assert rows and all(not any(i in r.atoms for i in ids) for r in rows)
    assert {r.ledger for r in rows} == {"cases:30", "records"}
    assert api.client.delete(f"/rounds/{round_id}", headers=c).status_code == 200
    with engine.connect() as conn:
        assert conn.execute(select(db.PublishedCellRow.__table__)).all() == []
    engine.dispose()
