"""The upload cache: one parsed copy per current upload, gone with replacement and purge, and
matching that gives the same cases from the copies or from the database."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from matcher.steward.hashed_file import read_hashed
from matcher_api import db, jobs
from matcher_api.cache import PRUNE_GRACE, UploadCache, new_key
from tests.api.factories import Api, hashed_bytes


def _cache(api: Api) -> UploadCache:
    cache: UploadCache = api.app.state.services.cache
    return cache


def _files(api: Api) -> set[str]:
    directory = _cache(api).directory
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def _keys(api: Api, round_id: str) -> dict[str, str | None]:
    with api.app.state.services.factory() as session:
        return {u.label: u.cache_key for u in db.round_uploads(session, round_id)}


def _duplicate_refs(content: bytes) -> bytes:
    """A hashed file whose header is fine but whose refs repeat (refused after decoding)."""
    table = pq.read_table(io.BytesIO(content))
    refs = pa.array([table["ref"][0].as_py()] * table.num_rows)
    sink = io.BytesIO()
    pq.write_table(table.set_column(0, "ref", refs), sink)
    return sink.getvalue()


def _stray(path: Path, content: bytes) -> Path:
    """A file in the cache directory, written longer ago than the prune grace period."""
    path.write_bytes(content)
    past = time.time() - PRUNE_GRACE - 10
    os.utime(path, (past, past))
    return path


def test_one_copy_per_upload_until_replaced_or_purged(api: Api) -> None:
    round_id, tokens = api.create_round()
    first = hashed_bytes(round_id, "skola", [1, 2, 3])
    assert api.upload(round_id, tokens["skola"], first).status_code == 200
    key = _keys(api, round_id)["skola"]
    assert key is not None and _files(api) == {f"{key}.arrow"}
    cached = _cache(api).read(key)
    assert cached is not None and cached.equals(read_hashed(first).frame)

    # Refused uploads (unreadable, bad columns, another round's file) leave no copy behind.
    second = hashed_bytes(round_id, "skola", [4, 5])
    assert api.upload(round_id, tokens["skola"], second[:-100]).status_code == 422
    assert api.upload(round_id, tokens["skola"], _duplicate_refs(second)).status_code == 422
    other_round = hashed_bytes("another-round", "skola", [6])
    assert api.upload(round_id, tokens["skola"], other_round).status_code == 422
    assert _files(api) == {f"{key}.arrow"}

    assert api.upload(round_id, tokens["skola"], second).status_code == 200
    replaced = _keys(api, round_id)["skola"]
    assert replaced not in (None, key) and _files(api) == {f"{replaced}.arrow"}

    assert api.upload(round_id, tokens["polis"], hashed_bytes(round_id, "polis", [4])).is_success
    assert len(_files(api)) == 2
    assert api.client.delete(f"/rounds/{round_id}", headers=api.coordinator).status_code == 200
    assert _files(api) == set()


def test_expired_rounds_lose_their_copies(api: Api) -> None:
    round_id, tokens = api.create_round(retention_days=1)
    assert api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1])).is_success
    assert len(_files(api)) == 1
    api.clock.advance(days=1, seconds=1)
    assert api.client.get(f"/rounds/{round_id}", headers=api.coordinator).status_code == 404
    assert _files(api) == set()


def test_matching_falls_back_to_the_database(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    round_id, tokens = api.create_round()
    people = {"skola": [1, 2, 3, 4], "socialtjanst": [3, 4, 5], "polis": [4, 5, 6]}
    for agency, ids in people.items():
        assert api.upload(round_id, tokens[agency], hashed_bytes(round_id, agency, ids)).is_success
    decoded: list[int] = []
    original = jobs.stored_frame

    def counted(c: bytes) -> pl.DataFrame:
        decoded.append(1)
        return original(c)

    monkeypatch.setattr(jobs, "stored_frame", counted)

    assert api.match(round_id)["case_count"] == "<5"  # cases 3, 4, 5: all from the copies
    assert decoded == []
    job = api.client.get(f"/rounds/{round_id}/match", headers=api.coordinator).json()
    assert job["record_count"] == 7

    keys = _keys(api, round_id)
    _cache(api).path(str(keys["skola"])).unlink()  # a lost copy
    _cache(api).path(str(keys["polis"])).write_bytes(b"garbage")  # a damaged one
    assert api.match(round_id)["record_count"] == 7
    assert len(decoded) == 2

    # A copy that cannot be written: the upload is stored without one and decoded when matched.
    monkeypatch.setattr(UploadCache, "write", lambda *_: False)
    again = hashed_bytes(round_id, "socialtjanst", [3, 4, 5])
    assert api.upload(round_id, tokens["socialtjanst"], again).is_success
    assert _keys(api, round_id)["socialtjanst"] is None
    decoded.clear()
    assert api.match(round_id)["record_count"] == 7
    assert len(decoded) == 3


def test_startup_removes_copies_no_upload_names(api: Api, make_api: Callable[..., Api]) -> None:
    round_id, tokens = api.create_round()
    assert api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1])).is_success
    (live,) = _files(api)
    directory: Path = _cache(api).directory
    _stray(directory / f"{new_key()}.arrow", b"left by a crash")
    _stray(directory / f"{new_key()}.partial", b"half written")
    young = directory / f"{new_key()}.arrow"  # maybe an upload being committed: kept for now
    young.write_bytes(b"just written")
    restarted = make_api()
    assert _files(restarted) == {live, young.name}
    with restarted.app.state.services.factory() as session:
        keys = session.scalars(select(db.Upload.cache_key)).all()
    assert keys == [live.removesuffix(".arrow")]


def test_stray_copies_are_removed_while_running(make_api: Callable[..., Api]) -> None:
    api = make_api(purge_interval_seconds=0.05)
    round_id, tokens = api.create_round()
    assert api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1])).is_success
    (live,) = _files(api)
    stray = _stray(_cache(api).path(new_key()), b"a copy whose removal failed")
    deadline = time.monotonic() + 10
    while stray.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _files(api) == {live}
