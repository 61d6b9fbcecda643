"""Follow-up routes on SQLite and PostgreSQL: access, validation, report, no personal data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select

from matcher_api import db
from tests.api.factories import Api, bearer


def _body(agencies: list[str], actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "agencies": agencies,
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


def _setup(api: Api) -> tuple[str, dict[str, str]]:
    round_id, tokens = api.create_round()
    c = api.coordinator
    r = api.client.put(
        f"/rounds/{round_id}/followup/K1",
        json=_body(
            ["skola", "socialtjanst"], [_act("skola"), _act("socialtjanst", "family_support")]
        ),
        headers=c,
    )
    assert r.status_code == 200, r.text
    r = api.client.put(
        f"/rounds/{round_id}/followup/K2",
        json=_body(["polis", "socialtjanst"], [_act("polis", "police_concern_talk", "2026-03-02")]),
        headers=c,
    )
    assert r.status_code == 200, r.text
    return round_id, tokens


def test_agency_sees_only_own_cases_and_actions(api: Api) -> None:
    round_id, tokens = _setup(api)
    skola = api.client.get(f"/rounds/{round_id}/followup/own", headers=bearer(tokens["skola"]))
    assert skola.status_code == 200
    assert [c["case_id"] for c in skola.json()["cases"]] == ["K1"]
    assert [a["agency"] for a in skola.json()["cases"][0]["actions"]] == ["skola"]
    polis = api.client.get(f"/rounds/{round_id}/followup/own", headers=bearer(tokens["polis"]))
    assert [c["case_id"] for c in polis.json()["cases"]] == ["K2"]
    assert "K1" not in polis.text
    full = api.client.get(f"/rounds/{round_id}/followup", headers=api.coordinator).json()["cases"]
    assert [len(c["actions"]) for c in full] == [2, 1]


def test_agency_updates_only_its_own_action(api: Api) -> None:
    round_id, tokens = _setup(api)
    base = f"/rounds/{round_id}/followup/own"
    skola, polis = bearer(tokens["skola"]), bearer(tokens["polis"])
    assert (
        api.client.patch(f"{base}/K1/actions/2", json={"status": "done"}, headers=skola).status_code
        == 404
    )
    assert (
        api.client.patch(f"{base}/K1/actions/1", json={"status": "done"}, headers=polis).status_code
        == 404
    )
    r = api.client.patch(f"{base}/K1/actions/1", json={"status": "done"}, headers=skola)
    assert r.status_code == 200 and r.json()["actions"][0]["status"] == "done"
    assert len(r.json()["actions"]) == 1


def test_roles_are_enforced(api: Api) -> None:
    round_id, tokens = _setup(api)
    agency = bearer(tokens["skola"])
    for method, path in [
        ("put", f"/rounds/{round_id}/followup/K3"),
        ("get", f"/rounds/{round_id}/followup"),
        ("get", f"/rounds/{round_id}/followup/overdue"),
        ("get", f"/followup/report?rounds={round_id}"),
    ]:
        r = api.client.request(method, path, headers=agency, json=_body(["skola"], []))
        assert r.status_code == 403, (method, path)
    _, other_tokens = api.create_round()
    r = api.client.get(f"/rounds/{round_id}/followup/own", headers=bearer(other_tokens["skola"]))
    assert r.status_code == 403


def test_bad_input_is_422_without_echo(api: Api) -> None:
    round_id, _ = api.create_round()
    for body in (
        _body(["skola"], [_act("skola", "Anna Andersson 19010101-1234")]),
        _body(["skola"], [_act("polis")]),
        {**_body(["skola"], []), "note": "free text"},
        {**_body(["skola"], []), "outcome": "Anna"},
    ):
        r = api.client.put(f"/rounds/{round_id}/followup/K9", json=body, headers=api.coordinator)
        assert r.status_code == 422, r.text
        assert "Anna" not in r.text and "19010101" not in r.text


def test_overdue_and_report(api: Api) -> None:
    round_id, _ = _setup(api)
    api.client.put(
        f"/rounds/{round_id}/followup/K3",
        json=_body(["skola"], [_act("skola", "mentor", "2027-01-20")]),
        headers=api.coordinator,
    )
    r = api.client.get(f"/rounds/{round_id}/followup/overdue", headers=api.coordinator)
    assert r.status_code == 200  # the test clock stands at 2026-11-01
    assert [(o["case_id"], o["action"]) for o in r.json()["actions"]] == [
        ("K2", 1),
        ("K1", 1),
        ("K1", 2),
    ]
    rep = api.client.get(f"/followup/report?rounds={round_id}", headers=api.coordinator)
    assert rep.status_code == 200, rep.text
    assert "K1" not in rep.text and "K2" not in rep.text
    assert rep.json()["tables"]["cases_by_number_of_agencies"][round_id]["total"] == "<5"


def test_stored_rows_hold_only_codes_and_dates_and_go_with_the_round(
    api: Api, database_url: str
) -> None:
    round_id, _ = _setup(api)
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
    first, _ = _setup(api)
    second, _ = api.create_round()
    for k in range(7):
        r = api.client.put(
            f"/rounds/{second}/followup/S{k}",
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

    round_id, tokens = api.create_round(agencies=("skola", "polis", "placering"))
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

    round_id, tokens = api.create_round()
    assert api.upload(
        round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1, 2])
    ).status_code in (200, 201)
    r = api.client.post(f"/rounds/{round_id}/analysis", headers=api.coordinator)
    assert r.status_code == 422, r.text
