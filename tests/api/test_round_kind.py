"""Round kinds on SQLite and PostgreSQL: an analysis round never gives a case list to anyone,
and each hashed file's list kind must fit its round."""

from __future__ import annotations

from datetime import date

from tests.api.factories import Api, bearer, hashed_bytes
from tests.api.test_followup import _outcome_bytes


def test_the_kind_is_set_at_creation_and_signals_by_default(api: Api) -> None:
    signals, _ = api.create_round()
    analysis, _ = api.create_round(kind="analysis")
    c = api.coordinator
    assert api.client.get(f"/rounds/{signals}", headers=c).json()["kind"] == "signals"
    assert api.client.get(f"/rounds/{analysis}", headers=c).json()["kind"] == "analysis"
    r = api.client.post(
        "/rounds", headers=c, json={"name": "x", "legal_basis": "xyz", "agencies": ["a", "b"],
                                    "kind": "cases"},
    )  # fmt: skip
    assert r.status_code == 422


def _analysis_round(api: Api) -> tuple[str, dict[str, str]]:
    round_id, tokens = api.create_round(agencies=("skola", "polis", "placering"), kind="analysis")
    people = list(range(1, 31))
    files = {
        "skola": hashed_bytes(round_id, "skola", people, signal_date=date(2024, 1, 10)),
        "polis": hashed_bytes(round_id, "polis", people[:20], signal_date=date(2024, 6, 1)),
        "placering": _outcome_bytes(round_id, "placering", people[:10], "2025-03-01"),
    }
    for label, content in files.items():
        assert api.upload(round_id, tokens[label], content).status_code in (200, 201)
    return round_id, tokens


def test_an_analysis_round_gives_no_case_list_to_anyone(api: Api) -> None:
    round_id, tokens = _analysis_round(api)
    c = api.coordinator
    r = api.client.post(f"/rounds/{round_id}/match", headers=c)
    assert r.status_code == 409 and r.json()["reason"] == "analysis_round"
    r = api.client.get(f"/rounds/{round_id}/results", headers=c)
    assert r.status_code == 409 and r.json()["reason"] == "analysis_round"
    for label, token in tokens.items():
        r = api.client.get(f"/rounds/{round_id}/results/own", headers=bearer(token))
        assert r.status_code == 409, label
        assert "case_id" not in r.text and "ref" not in r.json()
    r = api.client.put(f"/rounds/{round_id}/followup/K00001", headers=c, json={})
    assert r.status_code == 404
    r = api.client.post(f"/rounds/{round_id}/analysis", headers=c)
    assert r.status_code == 200 and "case_id" not in r.text


def test_a_signal_round_is_not_analysed(api: Api) -> None:
    round_id, tokens = api.create_round()
    api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1, 2]))
    r = api.client.post(f"/rounds/{round_id}/analysis", headers=api.coordinator)
    assert r.status_code == 409 and r.json()["reason"] == "signals_round"


def test_an_outcome_list_in_a_signal_round_is_refused(api: Api) -> None:
    round_id, tokens = api.create_round()
    r = api.upload(
        round_id, tokens["polis"], _outcome_bytes(round_id, "polis", [1, 2], "2025-01-01")
    )
    assert r.status_code == 422 and r.json()["reason"] == "list_kind"
    assert "outcome" in r.json()["detail"]
    status = api.client.get(f"/rounds/{round_id}", headers=api.coordinator).json()
    assert all(a["upload"] is None for a in status["agencies"])


def test_an_analysis_round_takes_signal_and_outcome_lists(api: Api) -> None:
    round_id, _ = _analysis_round(api)
    status = api.client.get(f"/rounds/{round_id}", headers=api.coordinator).json()
    assert all(a["upload"] is not None for a in status["agencies"])


def test_rounds_from_before_migration_0005_are_signal_rounds(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    from matcher_api import db

    engine = create_engine(database_url)
    try:
        db.downgrade_database(engine)
        db.upgrade_database(engine, "0004")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO rounds (id, name, legal_basis, k, disclosure_policy, "
                    "retention_days, created_at, expires_at) VALUES ('old', 'x', 'y', 2, "
                    "'agencies_only', 30, '2026-01-01 00:00:00', '2027-01-01 00:00:00')"
                )
            )
        db.upgrade_database(engine)
        with engine.connect() as conn:
            kind = conn.execute(text("SELECT kind FROM rounds WHERE id = 'old'")).scalar()
        assert kind == "signals"
    finally:
        engine.dispose()
