"""Access control: 401 without a known token, 403 for the wrong role or round, isolation."""

from __future__ import annotations

import pytest

from tests.api.factories import AGENCIES, Api, bearer, hashed_bytes


def test_missing_and_unknown_tokens_get_401(api: Api) -> None:
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic Zm9vOmJhcg=="}):
        response = api.client.get("/rounds", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["reason"] == "unauthorized"


def test_agency_token_cannot_act_as_coordinator(api: Api) -> None:
    round_id, tokens = api.create_round()
    agency = bearer(tokens["skola"])
    for method, path in [
        ("get", "/rounds"),
        ("get", f"/rounds/{round_id}"),
        ("post", f"/rounds/{round_id}/match"),
        ("get", f"/rounds/{round_id}/results"),
        ("delete", f"/rounds/{round_id}"),
        ("get", "/audit"),
        ("post", "/admin/purge-expired"),
        ("post", f"/rounds/{round_id}/agencies/polis/token"),
    ]:
        response = api.client.request(method, path, headers=agency)
        assert response.status_code == 403, (method, path)
        assert response.json()["reason"] == "wrong_role"


def test_coordinator_cannot_act_as_agency(api: Api) -> None:
    round_id, _ = api.create_round()
    content = hashed_bytes(round_id, "skola", [1, 2])
    response = api.upload(round_id, "coordinator-token-for-tests-0123456789abcdef", content)
    assert response.status_code == 403
    for path in (f"/rounds/{round_id}/upload", f"/rounds/{round_id}/results/own"):
        assert api.client.get(path, headers=api.coordinator).status_code == 403


def test_agency_token_cannot_touch_another_round(api: Api) -> None:
    _, first_tokens = api.create_round()
    second, second_tokens = api.create_round()
    token = first_tokens["skola"]
    assert api.upload(second, token, hashed_bytes(second, "skola", [1])).status_code == 403
    for path in (f"/rounds/{second}/upload", f"/rounds/{second}/results/own"):
        response = api.client.get(path, headers=bearer(token))
        assert response.status_code == 403
        assert response.json()["reason"] == "wrong_round"
    assert api.upload(second, second_tokens["skola"], hashed_bytes(second, "skola", [1])).is_success


def test_agency_sees_only_its_own_upload(api: Api) -> None:
    round_id, tokens = api.create_round()
    assert api.upload(
        round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1, 2, 3])
    ).is_success
    own = api.client.get(f"/rounds/{round_id}/upload", headers=bearer(tokens["skola"]))
    assert own.status_code == 200 and own.json()["agency"] == "skola"
    other = api.client.get(f"/rounds/{round_id}/upload", headers=bearer(tokens["polis"]))
    assert other.status_code == 404  # polis has not uploaded; it never sees skola's file


def test_agency_cannot_upload_as_another_agency(api: Api) -> None:
    round_id, tokens = api.create_round()
    response = api.upload(round_id, tokens["polis"], hashed_bytes(round_id, "skola", [1]))
    assert response.status_code == 422
    assert response.json()["reason"] == "agency_mismatch"


def test_reissued_token_replaces_the_old_one(api: Api) -> None:
    round_id, tokens = api.create_round()
    response = api.client.post(f"/rounds/{round_id}/agencies/polis/token", headers=api.coordinator)
    assert response.status_code == 200
    new = response.json()["token"]
    assert (
        api.client.get(f"/rounds/{round_id}/upload", headers=bearer(tokens["polis"])).status_code
        == 401
    )
    assert api.client.get(f"/rounds/{round_id}/upload", headers=bearer(new)).status_code == 404
    missing = api.client.post(f"/rounds/{round_id}/agencies/bup/token", headers=api.coordinator)
    assert missing.status_code == 404


@pytest.mark.parametrize("label", AGENCIES)
def test_tokens_are_stored_only_as_hashes(api: Api, label: str) -> None:
    from sqlalchemy import select

    from matcher_api import db

    _, tokens = api.create_round()
    with api.app.state.services.factory() as session:
        digests = session.scalars(select(db.Agency.token_hash)).all()
    assert tokens[label] not in digests
    assert all(len(d) == 64 for d in digests)
