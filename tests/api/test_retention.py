"""Retention: expired rounds are purged by the service itself; purge deletes rows, not flags."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from matcher_api import db
from tests.api.factories import Api, bearer, hashed_bytes


def _rows(api: Api, round_id: str) -> dict[str, int]:
    with api.app.state.services.factory() as session:
        return db.round_row_counts(session, round_id)


def _fill(api: Api) -> tuple[str, dict[str, str]]:
    round_id, tokens = api.create_round(retention_days=3)
    for number, agency in enumerate(("skola", "polis")):
        assert api.upload(
            round_id, tokens[agency], hashed_bytes(round_id, agency, [number])
        ).is_success
    return round_id, tokens


def test_coordinator_purge_deletes_every_row(api: Api) -> None:
    round_id, tokens = _fill(api)
    keep, _ = _fill(api)
    assert _rows(api, round_id)["uploads"] == 2
    response = api.client.delete(f"/rounds/{round_id}", headers=api.coordinator)
    assert response.status_code == 200
    assert response.json()["deleted_rows"]["uploads"] == 2
    assert set(_rows(api, round_id).values()) == {0}
    assert _rows(api, keep)["uploads"] == 2
    assert api.client.get(f"/rounds/{round_id}", headers=api.coordinator).status_code == 404
    assert (
        api.client.get(f"/rounds/{round_id}/upload", headers=bearer(tokens["skola"])).status_code
        == 401
    )
    events = api.client.get("/audit", params={"round_id": round_id}, headers=api.coordinator)
    trail = events.json()["events"]
    assert trail[0]["action"] == "round.purge" and trail[0]["details"]["uploads"] == 2
    # The trail outlives the round: its terms stay on record.
    (created,) = [e for e in trail if e["action"] == "round.create"]
    assert created["details"]["policy"] == "agencies_only"
    assert created["details"]["legal_basis"] == "guardians' consent"


def test_expired_round_is_purged_on_access(api: Api) -> None:
    round_id, _ = _fill(api)
    api.clock.advance(days=3, seconds=1)
    assert _rows(api, round_id)["uploads"] == 2  # not yet: nothing has looked
    response = api.client.get(f"/rounds/{round_id}", headers=api.coordinator)
    assert response.status_code == 404
    assert set(_rows(api, round_id).values()) == {0}


def test_expired_rounds_are_purged_on_startup_and_on_request(
    api: Api, make_api: Callable[..., Api]
) -> None:
    first, _ = _fill(api)
    api.clock.advance(days=4)
    second, _ = _fill(api)  # created "now": not expired
    restarted = make_api()  # a restart purges what has expired
    assert set(_rows(restarted, first).values()) == {0}
    assert _rows(restarted, second)["uploads"] == 2
    restarted.clock.advance(days=4)
    response = restarted.client.post("/admin/purge-expired", headers=restarted.coordinator)
    assert response.json()["round_ids"] == [second]
    assert set(_rows(restarted, second).values()) == {0}
    with restarted.app.state.services.factory() as session:
        assert session.scalar(select(func.count()).select_from(db.Upload)) == 0
        actions = session.scalars(select(db.AuditEvent.action)).all()
    assert actions.count("round.expire") == 2


def test_periodic_purge_runs_in_the_background(make_api: Callable[..., Api]) -> None:
    import time

    api = make_api(purge_interval_seconds=0.05)
    round_id, _ = _fill(api)
    api.clock.advance(days=10)
    deadline = time.monotonic() + 10
    while _rows(api, round_id)["rounds"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(_rows(api, round_id).values()) == {0}


def test_retention_limits(make_api: Callable[..., Api]) -> None:
    api = make_api(max_retention_days=10, default_retention_days=7)
    round_id, _ = api.create_round()
    round_ = api.client.get(f"/rounds/{round_id}", headers=api.coordinator).json()
    assert round_["retention_days"] == 7
    response = api.client.post(
        "/rounds",
        json={"name": "x", "legal_basis": "consent", "agencies": ["a", "b"], "retention_days": 11},
        headers=api.coordinator,
    )
    assert response.status_code == 422
