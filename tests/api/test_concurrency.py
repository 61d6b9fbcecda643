"""Many clients at once against a real service (issue 13 item 3), schedules drawn by hypothesis.

Racing first uploads with different key check values: exactly one key fixes the round, every
upload with another key gets a clear 409. Uploads racing a match: each agency's file is either
wholly in the results or not in them at all, and results are only ever visible for the files
that are stored now.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from matcher.errors import LinkageError
from matcher_api import db, jobs
from matcher_api.jobs import match_round
from tests.api.factories import COORDINATOR_TOKEN, Api, hashed_bytes, refs_of
from tests.api.test_service_process import Service, serve
from tests.profiles import examples

LABELS = ("skola", "socialtjanst", "polis", "fritid", "bup", "vard")
KEYS = ("aaaa1111", "bbbb2222", "cccc3333")
# Every agency's first file flags children 0..29, its replacement children 20..49.
FIRST, REPLACEMENT = range(0, 30), range(20, 50)
RACE_SECONDS = 1.0


def _round(service: Service, labels: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    with service.client() as client:
        body = {"name": "race", "legal_basis": "consent", "agencies": list(labels)}
        response = client.post("/rounds", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    return data["round"]["id"], data["agency_tokens"]


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, released at the same moment."""
    gate = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        gate.wait(30)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _put(service: Service, round_id: str, token: str, content: bytes) -> tuple[int, Any]:
    with service.client(token) as client:
        response = client.put(
            f"/rounds/{round_id}/upload",
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )
    return response.status_code, response.json()


def test_racing_first_uploads_fix_exactly_one_key(tmp_path: Path, database_url: str) -> None:
    with serve(tmp_path, database_url) as service:

        @settings(max_examples=examples(6))
        @given(keys=st.lists(st.sampled_from(KEYS), min_size=2, max_size=len(LABELS)))
        def race(keys: list[str]) -> None:
            labels = LABELS[: len(keys)]
            round_id, tokens = _round(service, labels)
            files = {
                label: hashed_bytes(round_id, label, [1, 2, 3], key_check=key)
                for label, key in zip(labels, keys, strict=True)
            }
            answers = _together(
                [partial(_put, service, round_id, tokens[label], files[label]) for label in labels]
            )
            accepted = {key for key, (code, _) in zip(keys, answers, strict=True) if code == 200}
            assert len(accepted) == 1, answers
            (winner,) = accepted
            for key, (code, body) in zip(keys, answers, strict=True):
                if key == winner:
                    assert code == 200, body
                else:
                    assert code == 409 and body["reason"] == "key_check", body
                    assert "key" in body["detail"]
            with service.client() as client:
                assert client.get(f"/rounds/{round_id}").json()["key_check"] == winner

        race()
    assert "Traceback" not in service.log.read_text()


def _expected_cases(current: dict[str, range]) -> dict[str, int]:
    """Per agency: how many of its children are flagged by at least one other agency."""
    return {
        label: sum(
            any(child in others for name, others in current.items() if name != label)
            for child in children
        )
        for label, children in current.items()
    }


def test_uploads_racing_a_match_are_wholly_in_it_or_not(tmp_path: Path, database_url: str) -> None:
    labels = LABELS[:3]
    with serve(tmp_path, database_url) as service:

        @settings(max_examples=examples(6))
        @given(
            replacing=st.lists(st.sampled_from(labels), min_size=1, max_size=3, unique=True),
            delays=st.lists(st.integers(0, 40), min_size=4, max_size=4),
        )
        def race(replacing: list[str], delays: list[int]) -> None:
            round_id, tokens = _round(service, labels)
            first = {label: hashed_bytes(round_id, label, list(FIRST)) for label in labels}
            for label in labels:
                assert _put(service, round_id, tokens[label], first[label])[0] == 200
            second = {label: hashed_bytes(round_id, label, list(REPLACEMENT)) for label in labels}

            def match() -> int:
                time.sleep(delays[0] / 1000)
                with service.client() as client:
                    return client.post(f"/rounds/{round_id}/match").status_code

            def replace(label: str, delay: int) -> tuple[int, Any]:
                time.sleep(delay / 1000)
                return _put(service, round_id, tokens[label], second[label])

            calls: list[Callable[[], Any]] = [match]
            calls += [
                partial(replace, label, delay)
                for label, delay in zip(replacing, delays[1:], strict=False)
            ]
            started, *answers = _together(calls)
            assert started == 202
            for code, body in answers:
                assert code == 200 or (code == 409 and "matching" in body["detail"]), body
            replaced = {
                label for label, (code, _) in zip(replacing, answers, strict=False) if code == 200
            }
            job = _settled(service, round_id)
            _check_results(service, round_id, tokens, job, first, second, replaced)

        race()
    assert "Traceback" not in service.log.read_text()


def _settled(service: Service, round_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    with service.client() as client:
        while True:
            job: dict[str, Any] = client.get(f"/rounds/{round_id}/match").json()
            if job["status"] not in ("queued", "running"):
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.05)


def _check_results(
    service: Service,
    round_id: str,
    tokens: dict[str, str],
    job: dict[str, Any],
    first: dict[str, bytes],
    second: dict[str, bytes],
    replaced: set[str],
) -> None:
    """Results are visible only for a finished job, and then hold every current file whole."""
    current = {label: REPLACEMENT if label in replaced else FIRST for label in tokens}
    stored = {label: second[label] if label in replaced else first[label] for label in tokens}
    expected = _expected_cases(current)
    for label, token in tokens.items():
        with service.client(token) as client:
            response = client.get(f"/rounds/{round_id}/results/own")
        if job["status"] != "done":
            assert response.status_code == 404, (job, response.text)
            continue
        assert response.status_code == 200, response.text
        cases = response.json()["cases"]
        refs = {record["ref"] for case in cases for record in case["records"]}
        assert refs <= set(refs_of(stored[label])), "a ref from a file that is not stored"
        assert len(cases) == expected[label], (label, job, replaced)
    if job["status"] != "done":
        assert job["status"] == "stale", job["error"]
    with service.client(COORDINATOR_TOKEN) as client:
        assert client.delete(f"/rounds/{round_id}").status_code == 200


def test_a_match_tripped_by_a_replacement_is_stale_not_failed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pinned from the race above (PostgreSQL): the worker read a mix of an old and a new file
    and refused it; the replacement, not the data, is what it tripped over."""
    round_id, tokens = api.create_round(k=2)
    for agency in ("skola", "polis"):
        api.upload(round_id, tokens[agency], hashed_bytes(round_id, agency, [1, 2]))
    factory = api.app.state.services.factory
    with db.transaction(factory) as session:
        round_row = session.get(db.Round, round_id)
        assert round_row is not None
        job_id = db.queue_match(session, round_row, now=api.clock()).id

    def replaced_meanwhile(session: object, rid: str) -> object:
        with db.transaction(factory) as other:
            other.execute(
                update(db.Upload)
                .where(db.Upload.round_id == rid)
                .values(size_bytes=db.Upload.size_bytes + 1)
            )
        raise LinkageError("the same record ref appears twice for one agency")

    monkeypatch.setattr(jobs, "load_files", replaced_meanwhile)
    match_round(factory, round_id, job_id)
    with factory() as session:
        job = session.get(db.MatchJob, job_id)
        assert job is not None and job.status == "stale", job and job.error


def test_an_upload_committing_after_a_match_finished_still_marks_it_stale(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pinned from the race above (PostgreSQL): a replacement that passed its checks before the
    match was queued, but committed only while the match stored its results, left a `done` job
    with results of the old file. Both now lock the round first, so the match ends stale."""
    from matcher.linkage.linkage import warm_up
    from matcher.steward.hashed_file import read_header

    warm_up()  # the match below must reach its results well within RACE_SECONDS
    if api.database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers: no match can be queued while an upload writes")
    round_id, tokens = api.create_round(k=2)
    for agency in ("skola", "polis"):
        api.upload(round_id, tokens[agency], hashed_bytes(round_id, agency, [1, 2]))
    factory = api.app.state.services.factory
    with factory() as session:
        polis = next(a for a in db.round_agencies(session, round_id) if a.label == "polis")
        scope = db.AgencyScope(round_id=round_id, agency_id=polis.id, label="polis")
    replacement = hashed_bytes(round_id, "polis", [2, 3])
    written, release = threading.Event(), threading.Event()

    def replace() -> None:
        """The upload's transaction: its checks and statements now, its commit when released."""
        with db.transaction(factory) as session:
            header = read_header(replacement)
            db.replace_upload(session, scope, header, replacement, now=api.clock())
            written.set()
            release.wait(30)

    uploader = threading.Thread(target=replace)
    uploader.start()
    assert written.wait(30)
    with db.transaction(factory) as session:  # queued after the upload's checks passed
        round_row = session.get(db.Round, round_id)
        assert round_row is not None
        job_id = db.queue_match(session, round_row, now=api.clock()).id
    real = jobs.load_files

    def load_then_commit_soon(session: Any, rid: str) -> Any:
        loaded = real(session, rid)  # the old file
        threading.Timer(RACE_SECONDS, release.set).start()  # while the match stores results
        return loaded

    monkeypatch.setattr(jobs, "load_files", load_then_commit_soon)
    match_round(factory, round_id, job_id)
    uploader.join(30)
    with factory() as session:
        job = session.get(db.MatchJob, job_id)
        assert job is not None and job.status == "stale", job and job.status
        assert session.get(db.RoundResult, round_id) is None
