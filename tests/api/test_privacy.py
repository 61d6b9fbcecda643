"""Privacy: identifiers sent to the service never come back in responses, the database or logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from matcher_api import db
from tests.api.factories import Api, bearer, hashed_bytes, refs_of
from tests.profiles import examples
from tests.strategies import swedish_surnames, valid_identity_numbers, written_forms

_ROUNDS: dict[int, tuple[str, dict[str, str]]] = {}
NO_FIXTURE_RESET = settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record of every logger, at every level."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def _database_text(api: Api) -> tuple[str, bytes]:
    """Every stored value: text columns joined, binary columns concatenated."""
    texts: list[str] = []
    blobs: list[bytes] = []
    with api.app.state.services.factory() as session:
        for table in db.Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        blobs.append(value)
                    else:
                        texts.append(str(value))
    return "\n".join(texts), b"".join(blobs)


def _service_logs(logs: pytest.LogCaptureFixture) -> str:
    """What the service logged (the test client's own request log lines are left out)."""
    return "\n".join(
        record.getMessage() for record in logs.records if not record.name.startswith("httpx")
    )


def _absent(api: Api, secret: str, logs: pytest.LogCaptureFixture, *responses: str) -> None:
    text, blobs = _database_text(api)
    logged = _service_logs(logs)
    for form in {secret, *(written_forms(secret) if secret.isdigit() else ())}:
        assert form not in text
        assert form.encode() not in blobs
        assert form not in logged
        for response in responses:
            assert form not in response


@NO_FIXTURE_RESET
@given(
    pnr=valid_identity_numbers(),
    # A substring scan needs a value that cannot occur in ordinary text by chance ("No" is in
    # "None"), so very short surnames are left out; every longer one must never be echoed.
    surname=swedish_surnames().filter(lambda s: len(s.strip()) >= 5),
)
def test_rejected_input_is_never_echoed_or_stored(
    api: Api, logs: pytest.LogCaptureFixture, pnr: str, surname: str
) -> None:
    if id(api) not in _ROUNDS:
        _ROUNDS[id(api)] = api.create_round()
    round_id, tokens = _ROUNDS[id(api)]
    token = bearer(tokens["skola"])
    responses = [
        # A round whose fields are personal data and invalid (k=1): refused, nothing stored.
        api.client.post(
            "/rounds",
            json={"name": pnr, "legal_basis": surname, "k": 1, "agencies": [pnr, surname]},
            headers=api.coordinator,
        ),
        api.client.get(f"/rounds/{pnr}", headers=api.coordinator),
        api.client.get(
            "/audit", params={"round_id": pnr, "limit": surname}, headers=api.coordinator
        ),
        api.client.put(
            f"/rounds/{round_id}/upload", content=f"{pnr};{surname}".encode(), headers=token
        ),
        api.upload(round_id, tokens["skola"], hashed_bytes(pnr, "skola", [1])),
        api.upload(round_id, tokens["skola"], hashed_bytes(round_id, surname[:100], [1])),
        api.client.get("/rounds", headers=bearer(pnr)),
    ]
    assert all(400 <= r.status_code < 500 for r in responses), [r.status_code for r in responses]
    _absent(api, pnr, logs, *(r.text for r in responses))
    _absent(api, surname.strip(), logs, *(r.text for r in responses))


@settings(NO_FIXTURE_RESET, max_examples=examples(12))
@given(data=st.data())
def test_coordinator_never_sees_refs_and_logs_hold_no_tokens(
    api: Api, logs: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    round_id, tokens = api.create_round()
    refs: list[str] = []
    for agency in ("skola", "socialtjanst", "polis"):
        people = data.draw(st.lists(st.integers(1, 12), min_size=1, max_size=8, unique=True))
        content = hashed_bytes(round_id, agency, people)
        refs += refs_of(content)
        assert api.upload(round_id, tokens[agency], content).status_code == 200
    assert api.match(round_id)["status"] == "done"
    coordinator_views = [
        api.client.get(path, headers=api.coordinator).text
        for path in (
            f"/rounds/{round_id}",
            f"/rounds/{round_id}/results",
            f"/rounds/{round_id}/match",
            "/rounds",
            "/audit",
        )
    ]
    for ref in refs:
        assert not any(ref in view for view in coordinator_views)
        assert ref not in _service_logs(logs)
    for token in tokens.values():
        assert token not in _service_logs(logs)
        assert token not in _database_text(api)[0]
