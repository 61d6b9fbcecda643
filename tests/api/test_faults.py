"""Fault injection (issue 13 item 2): the real service killed (SIGKILL) at every commit point.

Each stage (upload, match, purge) is a chain of `matcher serve` processes on one database: each
is started with the next crash point armed (``MATCHER_FAULT_POINT``, see
``matcher_api.faults``), first checks what the previous kill left, then does the step that
kills it. The invariants: every acknowledged upload is there byte for byte, no half-written
upload or result is visible, an interrupted match is reported failed and can be rerun, nothing
of a purged round comes back, and the audit log records exactly what was committed. On
PostgreSQL also: the service's connections terminated mid-request give 503, never a 500.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import create_engine, text

from matcher_api.faults import POINTS
from tests.api.factories import COORDINATOR_TOKEN, hashed_bytes, refs_of
from tests.api.test_purge_bytes import refs_found, service_files
from tests.api.test_service_process import Service, serve

AGENCIES = ("skola", "polis")
KILLED_SECONDS = 60.0
PURGED_ROWS = 600  # enough that the refs show as plain bytes in the files before a purge


def _killed(service: Service) -> None:
    """Wait for the armed service to have killed itself (SIGKILL, not a clean exit)."""
    assert service.process.wait(KILLED_SECONDS) == -9, service.log.read_text()[-2000:]


def _request(service: Service, method: str, path: str, token: str, **kwargs: object) -> int:
    """A request to a service that may die while answering it: the status, or 0 if it died."""
    try:
        with service.client(token) as client:
            return client.request(method, path, **kwargs).status_code  # type: ignore[arg-type]
    except httpx2.TransportError:
        return 0


@contextmanager
def _step(tmp: Path, url: str, point: str | None) -> Iterator[Service]:
    """One service of the chain, armed with ``point`` (None: unarmed)."""
    assert point is None or point.split("@")[0] in POINTS
    settings = {} if point is None else {"fault_point": point}
    with serve(tmp, url, **settings) as service:
        yield service
    assert "Traceback" not in service.log.read_text()


def _rows(url: str, query: str, **params: object) -> list[tuple[Any, ...]]:
    """Rows straight from the service's database (read beside the running service)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query), params)]
    finally:
        engine.dispose()


def _stored(url: str, round_id: str) -> dict[str, bytes]:
    """Each agency's stored upload of a round, as bytes."""
    rows = _rows(
        url,
        "SELECT a.label, u.content FROM uploads u JOIN round_agencies a ON a.id = u.agency_id "
        "WHERE u.round_id = :r",
        r=round_id,
    )
    return {str(label): bytes(content) for label, content in rows}


def _audit(url: str, round_id: str) -> list[str]:
    """The round's audit actions in the order they were committed."""
    rows = _rows(url, "SELECT action FROM audit_events WHERE round_id = :r ORDER BY id", r=round_id)
    return [str(action) for (action,) in rows]


def _round(service: Service) -> tuple[str, dict[str, str]]:
    with service.client() as client:
        response = client.post(
            "/rounds",
            json={"name": "faults", "legal_basis": "consent", "agencies": list(AGENCIES)},
        )
    assert response.status_code == 201, response.text
    data = response.json()
    return data["round"]["id"], data["agency_tokens"]


def _upload(service: Service, round_id: str, token: str, content: bytes) -> int:
    headers = {"Content-Type": "application/octet-stream"}
    return _request(
        service, "PUT", f"/rounds/{round_id}/upload", token, content=content, headers=headers
    )


def _files(round_id: str, rows: int = 100) -> dict[str, bytes]:
    """Two agencies' files of ``rows`` records sharing 40 children (40 cases at k = 2)."""
    return {
        "skola": hashed_bytes(round_id, "skola", list(range(0, rows))),
        "polis": hashed_bytes(round_id, "polis", list(range(rows - 40, 2 * rows - 40))),
    }


def _job(service: Service, round_id: str) -> dict[str, object]:
    with service.client() as client:
        job: dict[str, object] = client.get(f"/rounds/{round_id}/match").json()
    return job


def _wait_done(service: Service, round_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while (job := _job(service, round_id))["status"] not in ("done", "failed", "stale"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def _no_results(service: Service, round_id: str, tokens: dict[str, str]) -> None:
    """No agency (nor the coordinator) sees any result of the round."""
    for token in tokens.values():
        assert _request(service, "GET", f"/rounds/{round_id}/results/own", token) == 404
    with service.client() as client:
        assert client.get(f"/rounds/{round_id}/results").status_code == 404


def test_a_kill_at_any_upload_step_loses_only_the_unacknowledged_upload(
    tmp_path: Path, database_url: str
) -> None:
    with _step(tmp_path, database_url, "upload.before_commit@2") as service:
        round_id, tokens = _round(service)
        files = _files(round_id)
        assert _upload(service, round_id, tokens["polis"], files["polis"]) == 200
        assert _upload(service, round_id, tokens["skola"], files["skola"]) == 0
        _killed(service)
    replacement = hashed_bytes(round_id, "skola", list(range(50, 120)))
    with _step(tmp_path, database_url, "upload.after_commit@2") as service:
        # Killed before the commit: the acknowledged upload whole, the other not at all.
        assert _stored(database_url, round_id) == {"polis": files["polis"]}
        assert _audit(database_url, round_id) == ["round.create", "upload"]
        assert _upload(service, round_id, tokens["skola"], files["skola"]) == 200
        assert _upload(service, round_id, tokens["skola"], replacement) == 0
        _killed(service)
    with _step(tmp_path, database_url, None) as service:
        # Killed after the commit: the replacement is stored whole though never acknowledged.
        assert _stored(database_url, round_id) == {"polis": files["polis"], "skola": replacement}
        assert _audit(database_url, round_id) == ["round.create", *["upload"] * 3]
        assert _upload(service, round_id, tokens["skola"], files["skola"]) == 200
        with service.client() as client:
            assert client.post(f"/rounds/{round_id}/match").status_code == 202
        job = _wait_done(service, round_id)
        assert job["status"] == "done" and job["case_count"] == 40, job


def test_an_interrupted_match_is_reported_failed_and_can_be_rerun(
    tmp_path: Path, database_url: str
) -> None:
    points = ("match.running", "match.before_commit", "match.after_commit", None)
    round_id, tokens = "", dict[str, str]()
    for number, point in enumerate(points):
        with _step(tmp_path, database_url, point) as service:
            if number == 0:
                round_id, tokens = _round(service)
                for agency, content in _files(round_id).items():
                    assert _upload(service, round_id, tokens[agency], content) == 200
            else:
                job = _job(service, round_id)
                if points[number - 1] == "match.after_commit":
                    assert job["status"] == "done" and job["case_count"] == 40, job
                    for token in tokens.values():
                        path = f"/rounds/{round_id}/results/own"
                        with service.client(token) as client:
                            assert len(client.get(path).json()["cases"]) == 40
                    assert _audit(database_url, round_id).count("match.done") == 1
                    break
                assert job["status"] == "failed", job
                assert job["error"] == "interrupted by a service restart"
                _no_results(service, round_id, tokens)
                assert "match.done" not in _audit(database_url, round_id)
            path = f"/rounds/{round_id}/match"
            assert _request(service, "POST", path, COORDINATOR_TOKEN) in (0, 202)
            _killed(service)
    starts = _audit(database_url, round_id).count("match.start")
    assert starts == 3


def test_nothing_of_a_purged_round_comes_back_after_a_kill(
    tmp_path: Path, database_url: str
) -> None:
    points = ("purge.before_commit", "purge.before_scrub", "purge.after_commit", None)
    rounds: list[tuple[str, dict[str, str], dict[str, bytes]]] = []
    for number, point in enumerate(points):
        with _step(tmp_path, database_url, point) as service:
            previous = points[number - 1] if number else None
            if previous == "purge.before_commit":  # nothing committed: the round is whole
                round_id, tokens, files = rounds[-1]
                assert _stored(database_url, round_id) == files
                with service.client(tokens["skola"]) as client:
                    cases = client.get(f"/rounds/{round_id}/results/own").json()["cases"]
                assert len(cases) == 40
                assert "round.purge" not in _audit(database_url, round_id)
                if database_url.startswith("sqlite"):  # PostgreSQL compresses them (TOAST)
                    refs = set(refs_of(files["skola"])) | set(refs_of(files["polis"]))
                    found = refs_found(service_files(tmp_path, database_url), refs)
                    assert found > 0, "the search must find refs while the round exists"
            elif previous is not None:  # committed: gone, and audited once
                round_id, tokens, files = rounds[-1]
                _assert_purged(service, database_url, round_id, tokens, files)
                refs = set(refs_of(files["skola"])) | set(refs_of(files["polis"]))
                leaked = refs_found(service_files(tmp_path, database_url), refs)
                assert leaked == 0, f"{leaked} refs of the purged round remain in the files"
                pending = "SELECT 1 FROM service_state WHERE key = 'scrub_pending'"
                assert _rows(database_url, pending) == [], "the start-up did not finish the scrub"
            if point is None:
                break
            if previous != "purge.before_commit":
                round_id, tokens = _round(service)
                files = _files(round_id, PURGED_ROWS)
                for agency, content in files.items():
                    assert _upload(service, round_id, tokens[agency], content) == 200
                with service.client() as client:
                    assert client.post(f"/rounds/{round_id}/match").status_code == 202
                assert _wait_done(service, round_id)["status"] == "done"
                rounds.append((round_id, tokens, files))
            with service.client() as client, pytest.raises(httpx2.TransportError):
                client.delete(f"/rounds/{round_id}")
            _killed(service)


def _assert_purged(
    service: Service, url: str, round_id: str, tokens: dict[str, str], files: dict[str, bytes]
) -> None:
    with service.client() as client:
        assert client.get(f"/rounds/{round_id}").status_code == 404
    for token in tokens.values():  # the agencies' tokens went with the round
        assert _request(service, "GET", f"/rounds/{round_id}/results/own", token) == 401
    for table in ("uploads", "round_agencies", "match_jobs", "agency_results", "round_results"):
        assert _rows(url, f"SELECT 1 FROM {table} WHERE round_id = :r", r=round_id) == []
    assert _audit(url, round_id).count("round.purge") == 1
    assert _audit(url, round_id)[-1] == "round.purge"


@pytest.mark.postgres
def test_dropped_database_connections_give_503_and_the_service_recovers(
    tmp_path: Path, postgres_url: str
) -> None:
    """Every connection of the service terminated (pg_terminate_backend) again and again while
    clients call it: each answer is a success or a 503 naming the database, never a 500, and
    the first request after the outage succeeds."""
    from tests.api.conftest import _empty_tables

    _empty_tables(postgres_url)
    with serve(tmp_path, postgres_url, db_pool_size="2") as service:
        round_id, tokens = _round(service)
        content = hashed_bytes(round_id, "skola", list(range(2000)))
        stop = threading.Event()

        def terminate() -> None:
            """Terminate every other backend of the service's database until told to stop."""
            engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                while not stop.is_set():
                    connection.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        )
                    )
                    time.sleep(0.02)
            engine.dispose()

        killer = threading.Thread(target=terminate)
        killer.start()
        answers: list[httpx2.Response] = []
        try:
            with service.client() as coordinator, service.client(tokens["skola"]) as agency:
                for _ in range(15):
                    answers.append(coordinator.get(f"/rounds/{round_id}"))
                    answers.append(coordinator.get("/rounds"))
                    answers.append(
                        agency.put(
                            f"/rounds/{round_id}/upload",
                            content=content,
                            headers={"Content-Type": "application/octet-stream"},
                        )
                    )
        finally:
            stop.set()
            killer.join(30)
        codes = [answer.status_code for answer in answers]
        assert set(codes) <= {200, 503}, codes
        for answer in answers:
            if answer.status_code == 503:
                assert answer.json()["reason"] in ("database", "database_busy"), answer.text
                assert "try again" in answer.json()["detail"]
        assert 503 in codes, "the connections were never dropped mid-request"
        with service.client() as client:
            assert client.get(f"/rounds/{round_id}").status_code == 200
        log = service.log.read_text()
        assert "Traceback" not in log
        assert not re.search(r"\b500\b", log)
