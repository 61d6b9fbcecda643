"""The whole flow through the HTTP API: agencies upload, matching runs, each reads its results."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

import matcher.linkage.linkage
from matcher.errors import LinkageError
from matcher_api.schemas import AgencyResultsPublic, RoundResultsPublic
from tests.api.factories import Api, bearer, hashed_bytes, refs_of

PEOPLE = {
    "skola": list(range(1, 11)),
    "socialtjanst": list(range(5, 16)),
    "polis": list(range(8, 21)),
}
SIGNALS = {"skola": "frånvaro", "socialtjanst": "orosanmälan", "polis": "ringa brott"}


def _upload_all(api: Api, round_id: str, tokens: dict[str, str]) -> dict[str, dict[int, str]]:
    """Upload every agency's file; returns agency -> person -> ref."""
    refs: dict[str, dict[int, str]] = {}
    for agency, people in PEOPLE.items():
        content = hashed_bytes(round_id, agency, people, signal=SIGNALS[agency])
        assert api.upload(round_id, tokens[agency], content).status_code == 200
        refs[agency] = dict(zip(people, refs_of(content), strict=True))
    return refs


def _expected_cases(k: int) -> dict[int, set[str]]:
    agencies: dict[int, set[str]] = {}
    for agency, people in PEOPLE.items():
        for person in people:
            agencies.setdefault(person, set()).add(agency)
    return {p: a for p, a in agencies.items() if len(a) >= k}


@pytest.mark.parametrize("policy", ["agencies_only", "agencies_and_categories"])
def test_whole_flow_with_three_agencies(api: Api, policy: str) -> None:
    round_id, tokens = api.create_round(disclosure_policy=policy)
    refs = _upload_all(api, round_id, tokens)
    job = api.match(round_id)
    assert job["status"] == "done", job
    expected = _expected_cases(2)
    assert job["case_count"] == len(expected)

    seen_case_ids: dict[frozenset[str], set[str]] = {}
    for agency in PEOPLE:
        response = api.client.get(f"/rounds/{round_id}/results/own", headers=bearer(tokens[agency]))
        assert response.status_code == 200
        view = response.json()
        AgencyResultsPublic.model_validate(view)  # the fast JSON path keeps the documented shape
        assert view["agency"] == agency and view["disclosure_policy"] == policy
        own_refs = {ref: person for person, ref in refs[agency].items()}
        mine = {p for p, a in expected.items() if agency in a}
        assert len(view["cases"]) == len(mine)
        for case in view["cases"]:
            assert "score" not in str(case) and "dice" not in str(case)
            people = {own_refs[record["ref"]] for record in case["records"]}
            assert len(people) == 1  # one child per case; refs are this agency's own
            (person,) = people
            assert {o["agency"] for o in case["others"]} == expected[person] - {agency}
            for other in case["others"]:
                if policy == "agencies_only":
                    assert other["signals"] is None
                else:
                    assert other["signals"] == [SIGNALS[other["agency"]]]
            seen_case_ids.setdefault(frozenset(expected[person]), set()).add(case["case_id"])

    summary = api.client.get(f"/rounds/{round_id}/results", headers=api.coordinator)
    assert summary.status_code == 200
    body = summary.json()
    RoundResultsPublic.model_validate(body)
    all_refs = {ref for per in refs.values() for ref in per.values()}
    assert not any(ref in summary.text for ref in all_refs)  # the coordinator never sees refs
    assert len(body["cases"]) == len(expected)
    assert body["case_count"] == len(expected)
    by_size = {size: 0 for size in ("2", "3")}
    for agencies in expected.values():
        by_size[str(len(agencies))] += 1
    assert body["cases_by_agency_count"] == {
        size: (count if count >= 5 else "<5") for size, count in by_size.items()
    }
    for combo in body["cases_by_combination"]:
        count = sum(1 for a in expected.values() if sorted(a) == combo["agencies"])
        assert combo["cases"] == (count if count >= 5 else "<5")


def test_window_and_k_shape_the_cases(api: Api) -> None:
    round_id, tokens = api.create_round(k=3, window_from="2026-09-01", window_to="2026-12-31")
    _upload_all(api, round_id, tokens)
    job = api.match(round_id)
    assert job["status"] == "done", job
    assert job["case_count"] == "<5"  # three children: a small count, suppressed
    assert job["stats"]["cases"] == "<5"

    narrow, narrow_tokens = api.create_round(window_from="2027-01-01")
    _upload_all(api, narrow, narrow_tokens)
    assert api.match(narrow)["case_count"] == "<5"
    empty = api.client.get(f"/rounds/{narrow}/results", headers=api.coordinator).json()
    assert empty["cases"] == [] and empty["case_count"] == "<5"


def test_matching_needs_enough_uploads_and_one_job_at_a_time(api: Api) -> None:
    round_id, tokens = api.create_round()
    api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1]))
    response = api.client.post(f"/rounds/{round_id}/match", headers=api.coordinator)
    assert response.status_code == 409 and response.json()["reason"] == "too_few_uploads"
    assert api.client.get(f"/rounds/{round_id}/match", headers=api.coordinator).status_code == 404
    for path in (f"/rounds/{round_id}/results",):
        assert api.client.get(path, headers=api.coordinator).status_code == 404
    own = api.client.get(f"/rounds/{round_id}/results/own", headers=bearer(tokens["skola"]))
    assert own.status_code == 404


def test_matching_runs_off_the_event_loop_and_records_status(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_id, tokens = api.create_round()
    _upload_all(api, round_id, tokens)
    started, release = threading.Event(), threading.Event()
    real_link: Callable[..., Any] = matcher.linkage.linkage.link

    def slow_link(*args: Any, **kwargs: Any) -> Any:
        started.set()
        assert release.wait(30)
        return real_link(*args, **kwargs)

    monkeypatch.setattr(matcher.linkage.linkage, "link", slow_link)
    assert api.client.post(f"/rounds/{round_id}/match", headers=api.coordinator).status_code == 202
    assert started.wait(30)
    # The service answers while the core is busy, and reports the job as running.
    assert api.client.get("/health").status_code == 200
    running = api.client.get(f"/rounds/{round_id}/match", headers=api.coordinator).json()
    assert running["status"] == "running"
    again = api.client.post(f"/rounds/{round_id}/match", headers=api.coordinator)
    assert again.status_code == 409
    blocked = api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1]))
    assert blocked.status_code == 409
    release.set()
    assert api.wait(round_id)["status"] == "done"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (LinkageError("records repeat", reason="duplicate"), "records repeat"),
        (RuntimeError("19121212-1212 leaked into a message"), "internal error in matching"),
    ],
)
def test_failed_matching_is_recorded_without_data(
    api: Api, monkeypatch: pytest.MonkeyPatch, error: Exception, message: str
) -> None:
    round_id, tokens = api.create_round()
    _upload_all(api, round_id, tokens)

    def failing(*_: Any, **__: Any) -> Any:
        raise error

    monkeypatch.setattr(matcher.linkage.linkage, "link", failing)
    job = api.match(round_id)
    assert job["status"] == "failed"
    assert message in job["error"]
    assert "19121212" not in job["error"]
    audit = api.client.get("/audit", params={"round_id": round_id}, headers=api.coordinator)
    assert audit.json()["events"][0]["action"] == "match.failed"


def test_matching_in_a_worker_process(make_api: Callable[..., Api]) -> None:
    api = make_api(job_executor="process")
    round_id, tokens = api.create_round()
    _upload_all(api, round_id, tokens)
    job = api.match(round_id, timeout=120)
    assert job["status"] == "done", job
    assert job["case_count"] == len(_expected_cases(2))
    # The worker dies (say, out of memory): the job says so, and the next run gets a new worker.
    for child in multiprocessing.active_children():
        child.kill()
        child.join(10)
    outcomes = [api.match(round_id, timeout=120)["status"] for _ in range(2)]
    assert outcomes[-1] == "done" and set(outcomes) <= {"done", "failed"}


def test_new_upload_makes_old_results_disappear(api: Api) -> None:
    round_id, tokens = api.create_round()
    _upload_all(api, round_id, tokens)
    assert api.match(round_id)["status"] == "done"
    api.upload(
        round_id,
        tokens["polis"],
        hashed_bytes(round_id, "polis", [99], signal_date=date(2026, 10, 2)),
    )
    own = api.client.get(f"/rounds/{round_id}/results/own", headers=bearer(tokens["skola"]))
    assert own.status_code == 404  # stale results are gone until matching runs again
