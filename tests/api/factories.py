"""Test helpers for the coordinator API: hashed files, a clock, and a thin API driver."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2
import polars as pl
from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.steward.hashed_file import EncodingParams, HashedFileHeader, to_bytes

COORDINATOR_TOKEN = "coordinator-token-for-tests-0123456789abcdef"
KEY_CHECK = "5eed5eed5eed5eed"
AGENCIES = ("skola", "socialtjanst", "polis")


class Clock:
    """A settable clock for the app (retention tests move it forward)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def hashed_bytes(
    round_id: str,
    agency: str,
    people: Sequence[int],
    *,
    signal: str = "frånvaro",
    signal_date: date | None = date(2026, 10, 1),
    key_check: str = KEY_CHECK,
    bits: int = 1024,
    refs: Sequence[str] | None = None,
) -> bytes:
    """A valid hashed file whose records carry ``people`` as identity tokens (same id = same child).

    Refs are random, as the steward's hashing makes them.
    """
    n = len(people)
    refs = list(refs) if refs is not None else [secrets.token_urlsafe(9) for _ in range(n)]
    frame = pl.DataFrame(
        {
            "ref": refs,
            "agency": [agency] * n,
            "signal": [signal] * n,
            "signal_date": [signal_date] * n,
            "id_token": [int(p) for p in people],
            "name_tokens": [[]] * n,
            "block_tokens": [[]] * n,
            "bloom": [None] * n,
        },
        schema_overrides={"name_tokens": pl.List(pl.UInt64), "block_tokens": pl.List(pl.UInt64)},
    )
    header = HashedFileHeader(
        round_id=round_id,
        agency=agency,
        key_check=key_check,
        row_count=n,
        token_kinds=["pnr"],
        encoding=EncodingParams(bits=bits),
    )
    return to_bytes(header, frame)


def refs_of(content: bytes) -> list[str]:
    """The refs inside a hashed file."""
    from matcher.steward.hashed_file import read_hashed

    return read_hashed(content).frame["ref"].to_list()


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    """A TestClient plus the round-level moves every test makes."""

    client: TestClient
    app: FastAPI
    clock: Clock
    database_url: str
    coordinator: dict[str, str] = field(default_factory=lambda: bearer(COORDINATOR_TOKEN))

    def create_round(
        self, agencies: Sequence[str] = AGENCIES, **fields: Any
    ) -> tuple[str, dict[str, str]]:
        """Open a round; returns its id and each agency's token."""
        body = {
            "name": "SSPF test",
            "legal_basis": "guardians' consent",
            "agencies": list(agencies),
        }
        body.update(fields)
        response = self.client.post("/rounds", json=body, headers=self.coordinator)
        assert response.status_code == 201, response.text
        data = response.json()
        return data["round"]["id"], data["agency_tokens"]

    def upload(self, round_id: str, token: str, content: bytes) -> httpx2.Response:
        """PUT a hashed file as the raw body."""
        return self.client.put(
            f"/rounds/{round_id}/upload",
            content=content,
            headers={**bearer(token), "Content-Type": "application/octet-stream"},
        )

    def match(self, round_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """Start matching and wait for the job to end; returns the final job."""
        response = self.client.post(f"/rounds/{round_id}/match", headers=self.coordinator)
        assert response.status_code == 202, response.text
        return self.wait(round_id, timeout=timeout)

    def wait(self, round_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """Poll the round's job until it is done or failed."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            job = self.client.get(f"/rounds/{round_id}/match", headers=self.coordinator).json()
            if job["status"] in ("done", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.02)


def hashed_table_bytes(
    round_id: str, agency: str, table: Any, *, row_count: int | None = None
) -> bytes:
    """A Parquet file of ``table`` (a pyarrow Table) under a valid hashed-file header, written
    as the caller shaped it (no checks): for refused uploads and decompression bombs."""
    import io
    import json

    import pyarrow.parquet as pq

    header = HashedFileHeader(
        round_id=round_id,
        agency=agency,
        key_check=KEY_CHECK,
        row_count=table.num_rows if row_count is None else row_count,
        token_kinds=["pnr"],
    )
    meta = {b"matcher": json.dumps(header.model_dump(mode="json")).encode()}
    sink = io.BytesIO()
    table = table.replace_schema_metadata(meta)
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def bomb_table(shape: str, agency: str) -> Any:
    """A small Parquet table that decodes to far more than its size, in one of four shapes."""
    import os

    import pyarrow as pa

    u64 = pa.list_(pa.uint64())
    if shape == "rows":  # millions of rows of constant values
        n = 2_000_000
        columns = {
            "ref": pa.array(["r"] * n),
            "agency": pa.array([agency] * n),
            "signal": pa.array(["x"] * n),
            "signal_date": pa.array([date(2026, 10, 1)] * n),
            "id_token": pa.array([1] * n, pa.uint64()),
            "name_tokens": pa.array([[]] * n, u64),
            "block_tokens": pa.array([[]] * n, u64),
            "bloom": pa.array([None] * n, pa.binary()),
        }
        return _with_field_columns(pa.table(columns))
    n = 2_000 if shape == "dictionary" else 1
    refs = [os.urandom(8).hex() for _ in range(n)]
    signal = pa.array(["s"] * n)
    block = pa.array([[]] * n, u64)
    if shape == "list":  # one row, one list of millions of tokens
        block = pa.array([[7] * 4_000_000], u64)
    elif shape == "string":  # one row, one huge string
        signal = pa.array(["z" * 40_000_000])
    elif shape == "dictionary":  # every row points at one huge dictionary entry
        signal = pa.DictionaryArray.from_arrays(
            pa.array([0] * n, pa.int32()), pa.array(["d" * 2_000_000])
        )
    return _with_field_columns(
        pa.table(
            {
                "ref": pa.array(refs),
                "agency": pa.array([agency] * n),
                "signal": signal,
                "signal_date": pa.array([date(2026, 10, 1)] * n),
                "id_token": pa.array(
                    [int.from_bytes(os.urandom(8)) for _ in range(n)], pa.uint64()
                ),
                "name_tokens": pa.array([[]] * n, u64),
                "block_tokens": block,
                "bloom": pa.array([None] * n, pa.binary()),
            }
        )
    )


def _with_field_columns(table: Any) -> Any:
    """The table with the hashed file's field-level columns added empty (format 2), so a bomb
    is refused for what it is, not for lacking them."""
    import pyarrow as pa

    from matcher.steward.hashed_file import FIELD_LEVEL_COLUMNS, HASHED_SCHEMA

    n = table.num_rows
    for name in FIELD_LEVEL_COLUMNS:
        dtype = HASHED_SCHEMA[name]
        if name == "id_kind":
            table = table.append_column(name, pa.array([None] * n, pa.uint8()))
        elif str(dtype).startswith("List"):
            table = table.append_column(name, pa.array([[]] * n, pa.list_(pa.uint64())))
        else:
            table = table.append_column(name, pa.array([None] * n, pa.binary()))
    return table


def round_with_cases(
    api: Api, cases: Sequence[Sequence[str]], agencies: Sequence[str] = AGENCIES, **fields: Any
) -> tuple[str, dict[str, str], list[str]]:
    """A matched round whose cases have the agencies given (one child per entry, flagged by each
    of its agencies); returns the round id, the tokens and the case ids in the order given."""
    round_id, tokens = api.create_round(agencies, **fields)
    people: dict[str, list[int]] = {}
    for child, flagged in enumerate(cases, start=1):
        for agency in flagged:
            people.setdefault(agency, []).append(child)
    for agency, children in people.items():
        response = api.upload(round_id, tokens[agency], hashed_bytes(round_id, agency, children))
        assert response.status_code in (200, 201), response.text
    job = api.match(round_id)
    assert job["status"] == "done", job
    found = api.client.get(f"/rounds/{round_id}/results", headers=api.coordinator).json()
    by_agencies: dict[tuple[str, ...], list[str]] = {}
    for case in sorted(found["cases"], key=lambda c: c["case_id"]):
        by_agencies.setdefault(tuple(sorted(case["agencies"])), []).append(case["case_id"])
    ids = [by_agencies[tuple(sorted(flagged))].pop(0) for flagged in cases]
    return round_id, tokens, ids
