"""Uploads: checks against the round, size limit, atomic replacement, failures leave data intact."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import anyio
import pytest
from sqlalchemy import func, select
from starlette.types import Message

from matcher_api import db
from tests.api.factories import Api, bearer, hashed_bytes, refs_of


def _stored_refs(api: Api, round_id: str) -> dict[str, list[str]]:
    """The refs inside each agency's stored upload, read straight from the database."""
    with api.app.state.services.factory() as session:
        rows = db.load_uploads(session, round_id)
    return {agency.label: sorted(refs_of(content)) for agency, _, content in rows}


def _interrupted_upload(api: Api, round_id: str, token: str, first_chunk: bytes) -> int:
    """Drive the app at the ASGI level: one body chunk, then the client disconnects."""
    messages: list[Message] = [
        {"type": "http.request", "body": first_chunk, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": f"/rounds/{round_id}/upload",
        "raw_path": f"/rounds/{round_id}/upload".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/octet-stream"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(api.app, scope, receive, send)
    return next(int(m["status"]) for m in sent if m["type"] == "http.response.start")


def test_upload_raw_and_multipart(api: Api) -> None:
    round_id, tokens = api.create_round()
    raw = api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1, 2, 3]))
    assert raw.status_code == 200
    assert raw.json()["row_count"] == 3
    multipart = api.client.put(
        f"/rounds/{round_id}/upload",
        files={"file": ("polis.parquet", hashed_bytes(round_id, "polis", [4]))},
        headers=bearer(tokens["polis"]),
    )
    assert multipart.status_code == 200, multipart.text
    assert set(_stored_refs(api, round_id)) == {"skola", "polis"}
    empty_form = api.client.put(
        f"/rounds/{round_id}/upload", data={"x": "1"}, headers=bearer(tokens["polis"])
    )
    assert empty_form.status_code == 422


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "hashed_file_error"),
        (b"PAR1 definitely not parquet", "hashed_file_error"),
    ],
)
def test_unreadable_files_are_refused_with_422(api: Api, content: bytes, reason: str) -> None:
    round_id, tokens = api.create_round()
    response = api.upload(round_id, tokens["skola"], content)
    assert response.status_code == 422
    assert response.json()["reason"] == reason


def test_wrong_round_is_refused(api: Api) -> None:
    round_id, tokens = api.create_round()
    response = api.upload(round_id, tokens["skola"], hashed_bytes("another-round", "skola", [1]))
    assert response.status_code == 422
    assert response.json()["reason"] == "round_mismatch"


def test_first_upload_fixes_key_check_and_parameters(api: Api) -> None:
    round_id, tokens = api.create_round()
    assert api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1])).is_success
    wrong_key = api.upload(
        round_id, tokens["polis"], hashed_bytes(round_id, "polis", [1], key_check="00" * 8)
    )
    assert wrong_key.status_code == 409
    assert wrong_key.json()["reason"] == "key_check"
    assert "key" in wrong_key.json()["detail"]
    wrong_bits = api.upload(
        round_id, tokens["polis"], hashed_bytes(round_id, "polis", [1], bits=512)
    )
    assert wrong_bits.status_code == 409
    assert wrong_bits.json()["reason"] == "parameters"
    status = api.client.get(f"/rounds/{round_id}", headers=api.coordinator).json()
    assert status["key_check"] == "5eed5eed5eed5eed"
    # The only uploader may fix its own mistake: a replacement with another key is accepted.
    again = api.upload(
        round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1], key_check="00" * 8)
    )
    assert again.status_code == 200


def test_refused_api_uploads_are_audited_without_values(api: Api) -> None:
    """A file refused through the JSON API leaves an upload.refused event (reason and status
    only), which the coordinator's round page lists."""
    round_id, tokens = api.create_round()
    assert api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1])).is_success
    refused = hashed_bytes(round_id, "polis", [1, 2], key_check="00" * 8)
    response = api.upload(round_id, tokens["polis"], refused)
    assert response.status_code == 409
    assert api.upload(round_id, tokens["socialtjanst"], b"not parquet").status_code == 422
    with api.app.state.services.factory() as session:
        events = [e for e in db.list_audit(session, round_id=round_id, limit=50)]
    details = [json.loads(e.details) for e in events if e.action == "upload.refused"]
    assert sorted((d["agency"], d["status"]) for d in details) == [
        ("polis", 409),
        ("socialtjanst", 422),
    ]
    assert {d["reason"] for d in details if d["agency"] == "polis"} == {"key_check"}
    stored = " ".join(e.details for e in events)
    assert not any(ref in stored for ref in refs_of(refused))


def test_replacement_is_atomic_and_complete(api: Api) -> None:
    round_id, tokens = api.create_round()
    first = hashed_bytes(round_id, "skola", [1, 2, 3])
    second = hashed_bytes(round_id, "skola", [4, 5])
    assert api.upload(round_id, tokens["skola"], first).is_success
    assert api.upload(round_id, tokens["skola"], second).is_success
    assert _stored_refs(api, round_id) == {"skola": sorted(refs_of(second))}
    with api.app.state.services.factory() as session:
        assert session.scalar(select(func.count()).select_from(db.Upload)) == 1


def test_failed_uploads_leave_the_previous_one_intact(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_id, tokens = api.create_round()
    first = hashed_bytes(round_id, "skola", [1, 2, 3])
    assert api.upload(round_id, tokens["skola"], first).is_success
    expected = {"skola": sorted(refs_of(first))}
    second = hashed_bytes(round_id, "skola", [7, 8, 9])

    # Truncated in transit: unreadable, refused, nothing changed.
    assert api.upload(round_id, tokens["skola"], second[: len(second) // 2]).status_code == 422
    assert _stored_refs(api, round_id) == expected

    # The client breaks off mid-stream (ASGI disconnect after the first chunk): nothing changed.
    assert _interrupted_upload(api, round_id, tokens["skola"], second[:1000]) == 400
    assert _stored_refs(api, round_id) == expected

    # The database write fails after the old row was deleted: rolled back, old one intact.
    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(db.uploads, "record_audit", fail)
    assert api.upload(round_id, tokens["skola"], second).status_code == 500
    monkeypatch.undo()
    assert _stored_refs(api, round_id) == expected


def test_size_limit_gives_413_before_storing(make_api: Callable[..., Api]) -> None:
    api = make_api(max_upload_bytes=2048)
    round_id, tokens = api.create_round()
    big = hashed_bytes(round_id, "skola", list(range(1, 2000)))
    response = api.upload(round_id, tokens["skola"], big)
    assert response.status_code == 413
    assert response.json()["reason"] == "too_large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: the stream itself is counted
        for start in range(0, len(big), 512):
            yield big[start : start + 512]

    response = api.client.put(
        f"/rounds/{round_id}/upload", content=chunked(), headers=bearer(tokens["skola"])
    )
    assert response.status_code == 413
    assert _stored_refs(api, round_id) == {}


def test_new_upload_invalidates_results_and_is_audited(api: Api) -> None:
    round_id, tokens = api.create_round()
    api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1, 2]))
    events = api.client.get("/audit", params={"round_id": round_id}, headers=api.coordinator)
    actions = [(e["actor"], e["action"], e["details"].get("rows")) for e in events.json()["events"]]
    assert ("agency:skola", "upload", 2) in actions


def test_oversized_header_fields_are_refused(api: Api) -> None:
    round_id, tokens = api.create_round()
    content = hashed_bytes(round_id, "skola", [1], key_check="ab" * 100)
    response = api.upload(round_id, tokens["skola"], content)
    assert response.status_code == 422 and response.json()["reason"] == "key_check"


def test_nul_characters_never_reach_the_database(api: Api) -> None:
    round_id, tokens = api.create_round()
    content = hashed_bytes(round_id, "skola", [1], key_check="ab\x00cd")
    assert api.upload(round_id, tokens["skola"], content).status_code == 422
    body = {"name": "a\x00b", "legal_basis": "consent", "agencies": ["a", "b"]}
    assert api.client.post("/rounds", json=body, headers=api.coordinator).status_code == 422
    for path in ("/rounds/a%00b", "/rounds/a%00b/match", "/rounds/a%00b/results"):
        assert api.client.get(path, headers=api.coordinator).status_code in (404, 422)
    audit = api.client.get("/audit", params={"round_id": "a\x00b"}, headers=api.coordinator)
    assert audit.status_code in (200, 422)
