"""Issue 15 in-process: bombs refused from the footer, column order named, empty uploads,
stale results, a stale worker's writes refused, pool exhaustion answered 503, the token kept
out of logs. Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from matcher_api import db
from matcher_api.jobs import match_round
from matcher_api.main import TOKEN_FILE, create_app
from matcher_api.settings import Settings
from tests.api.factories import Api, bearer, bomb_table, hashed_bytes, hashed_table_bytes

BOMBS = ("rows", "list", "string", "dictionary")


@pytest.mark.parametrize("shape", BOMBS)
def test_bombs_are_refused_quickly_and_nothing_is_cached(api: Api, shape: str) -> None:
    round_id, tokens = api.create_round()
    content = hashed_table_bytes(round_id, "skola", bomb_table(shape, "skola"))
    started = time.monotonic()
    response = api.upload(round_id, tokens["skola"], content)
    assert 400 <= response.status_code < 500, response.text
    assert time.monotonic() - started < 10
    cache_dir = api.app.state.services.cache.directory
    assert not cache_dir.exists() or not any(cache_dir.iterdir())
    assert (
        api.client.get(f"/rounds/{round_id}/upload", headers=bearer(tokens["skola"])).status_code
        == 404
    )


def test_footer_row_count_must_match_the_header(api: Api) -> None:
    round_id, tokens = api.create_round()
    table = bomb_table("string", "skola").drop_columns([]).slice(0, 1)
    table = table.set_column(2, "signal", pa.array(["s"]))
    content = hashed_table_bytes(round_id, "skola", table, row_count=5)
    response = api.upload(round_id, tokens["skola"], content)
    assert response.status_code == 422 and response.json()["reason"] == "row_count"


def test_columns_in_another_order_are_named_as_such(api: Api) -> None:
    round_id, tokens = api.create_round()
    table = bomb_table("string", "skola").set_column(2, "signal", pa.array(["s"]))
    reordered = table.select(["agency", *[c for c in table.column_names if c != "agency"]])
    response = api.upload(
        round_id, tokens["skola"], hashed_table_bytes(round_id, "skola", reordered)
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "column_order"
    assert "another order" in response.json()["detail"]


def test_an_empty_upload_is_refused_unless_allowed(api: Api) -> None:
    round_id, tokens = api.create_round()
    assert (
        api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1, 2])).status_code
        == 200
    )
    empty = hashed_bytes(round_id, "skola", [])
    refused = api.upload(round_id, tokens["skola"], empty)
    assert refused.status_code == 422 and refused.json()["reason"] == "empty"
    kept = api.client.get(f"/rounds/{round_id}/upload", headers=bearer(tokens["skola"])).json()
    assert kept["row_count"] == 2
    allowed = api.client.put(
        f"/rounds/{round_id}/upload?allow_empty=true",
        content=empty,
        headers={**bearer(tokens["skola"]), "Content-Type": "application/octet-stream"},
    )
    assert allowed.status_code == 200 and allowed.json()["row_count"] == 0


def test_results_removed_by_a_new_upload_show_as_stale(api: Api) -> None:
    round_id, tokens = api.create_round(k=2)
    for agency in ("skola", "polis"):
        assert (
            api.upload(round_id, tokens[agency], hashed_bytes(round_id, agency, [1, 2])).status_code
            == 200
        )
    assert api.match(round_id)["status"] == "done"
    assert (
        api.upload(round_id, tokens["polis"], hashed_bytes(round_id, "polis", [2, 3])).status_code
        == 200
    )
    job = api.client.get(f"/rounds/{round_id}/match", headers=api.coordinator).json()
    assert job["status"] == "stale" and "new file" in job["error"]
    assert api.match(round_id)["status"] == "done"


def test_a_worker_that_outlived_its_service_writes_nothing(api: Api) -> None:
    round_id, tokens = api.create_round(k=2)
    for agency in ("skola", "polis"):
        api.upload(round_id, tokens[agency], hashed_bytes(round_id, agency, [1, 2]))
    factory = api.app.state.services.factory
    with db.transaction(factory) as session:
        round_row = session.get(db.Round, round_id)
        assert round_row is not None
        job_id = db.queue_match(session, round_row, now=api.clock()).id
    with db.transaction(factory) as session:  # the service restarted: the job is failed
        assert db.fail_interrupted_jobs(session, now=api.clock()) == 1
    match_round(factory, round_id, job_id)  # the old worker runs on regardless
    with factory() as session:
        job = session.get(db.MatchJob, job_id)
        assert job is not None and job.status == "failed"
        assert session.get(db.RoundResult, round_id) is None


def test_an_upload_during_matching_makes_the_job_stale(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_id, tokens = api.create_round(k=2)
    for agency in ("skola", "polis"):
        api.upload(round_id, tokens[agency], hashed_bytes(round_id, agency, [1, 2]))
    factory = api.app.state.services.factory
    with db.transaction(factory) as session:
        round_row = session.get(db.Round, round_id)
        assert round_row is not None
        job_id = db.queue_match(session, round_row, now=api.clock()).id
    from matcher_api import jobs

    real = jobs.load_files

    def load_then_replace(session: object, rid: str) -> object:
        loaded = real(session, rid)  # type: ignore[arg-type]
        with db.transaction(factory) as other:  # a replacement that raced the match
            other.execute(
                update(db.Upload)
                .where(db.Upload.round_id == rid, db.Upload.size_bytes > 0)
                .values(cache_key=None, size_bytes=db.Upload.size_bytes + 1)
            )
        return loaded

    monkeypatch.setattr(jobs, "load_files", load_then_replace)
    match_round(factory, round_id, job_id)
    with factory() as session:
        job = session.get(db.MatchJob, job_id)
        assert job is not None and job.status == "stale"
        assert session.get(db.RoundResult, round_id) is None


def test_an_exhausted_pool_answers_503_not_500(make_api: Callable[..., Api]) -> None:
    api = make_api(db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.3)
    engine = api.app.state.services.engine
    with engine.connect() as held:  # every connection of the pool in use
        held.exec_driver_sql("SELECT 1")
        response = api.client.get("/health")
        assert response.status_code == 503, response.text
        assert response.json()["reason"] == "database_busy"
        listed = api.client.get("/rounds", headers=api.coordinator)
        assert listed.status_code == 503
    assert api.client.get("/health").status_code == 200


def test_a_generated_token_goes_to_a_private_file_never_to_the_log(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    settings = make_settings(coordinator_token=None)
    with caplog.at_level(logging.DEBUG):
        app = create_app(settings)
    path = tmp_path / TOKEN_FILE
    token = path.read_text().strip()
    assert len(token) >= 43
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token not in caplog.text
    with TestClient(app) as client:
        assert client.get("/rounds", headers=bearer(token)).status_code == 200
    app.state.services.engine.dispose()


def test_every_request_has_a_server_side_time_limit() -> None:
    import asyncio

    import anyio
    from starlette.types import Message, Receive, Scope, Send

    from matcher_api.limits import TimeLimitMiddleware

    async def stuck(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(30)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    started = time.monotonic()
    anyio.run(TimeLimitMiddleware(stuck, 0.2), {"type": "http"}, receive, send)
    assert time.monotonic() - started < 5
    assert sent[0]["status"] == 503
    assert b'"reason": "timeout"' in sent[1]["body"]


def test_two_racing_first_uploads_with_different_keys_cannot_both_be_stored(api: Api) -> None:
    """The round's key check value is fixed by exactly one first upload (a database row keyed
    by the round), not by a check-then-insert that two racing uploads both pass."""
    import threading

    from matcher.steward.hashed_file import read_header

    round_id, tokens = api.create_round()
    factory = api.app.state.services.factory
    with factory() as session:
        scopes = {
            a.label: db.AgencyScope(round_id=round_id, agency_id=a.id, label=a.label)
            for a in db.round_agencies(session, round_id)
        }
    first_in = threading.Event()
    outcome: dict[str, str] = {}

    def upload(agency: str, key_check: str, hold: bool) -> None:
        content = hashed_bytes(round_id, agency, [1, 2], key_check=key_check)
        try:
            with db.transaction(factory) as session:
                db.replace_upload(
                    session, scopes[agency], read_header(content), content, now=api.clock()
                )
                if hold:
                    first_in.set()
                    time.sleep(0.5)  # the other first upload runs its checks meanwhile
            outcome[agency] = "stored"
        except Exception as exc:  # a conflict, a constraint or a locked database
            outcome[agency] = type(exc).__name__
        finally:
            first_in.set()

    first = threading.Thread(target=upload, args=("skola", "aaaa1111", True))
    first.start()
    first_in.wait(10)
    upload("polis", "bbbb2222", False)
    first.join(30)
    with factory() as session:
        keys = set(session.scalars(select(db.Upload.key_check)).all())
    assert len(keys) <= 1, outcome
    assert outcome["skola"] == "stored"
    retry = api.upload(
        round_id, tokens["polis"], hashed_bytes(round_id, "polis", [3], key_check="bbbb2222")
    )
    assert retry.status_code == 409 and retry.json()["reason"] == "key_check"
