"""The backup and restore of docs/operations.md, against a running service: SQLite's online
backup API, or pg_dump and pg_restore (skipped where those tools are not installed). A service
started on the restored copy has the round and the upload, byte for byte."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.api.factories import hashed_bytes
from tests.api.test_service_process import _round, _upload, serve


def _content(url: str, round_id: str) -> list[bytes]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT content FROM uploads WHERE round_id = :r"), {"r": round_id}
            )
            return [bytes(content) for (content,) in rows]
    finally:
        engine.dispose()


def _backup_sqlite(url: str, tmp: Path) -> str:
    """SQLite's online backup of the live database, as the doc's Python one-liner does it."""
    target = tmp / "restored" / "matcher.db"
    target.parent.mkdir()
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        copy.close()
        source.close()
    return f"sqlite:///{target}"


def _backup_postgres(url: str, tmp: Path) -> str:
    """pg_dump of the live database, pg_restore into a new one (dropped with the session's)."""
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump and pg_restore are not installed")
    parsed = make_url(url)
    restored = f"{parsed.database}_restored_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{restored}"'))
    admin.dispose()
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = tmp / "matcher.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", plain], check=True)
    target = parsed.set(database=restored)
    target_plain = target.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={target_plain}", str(dump)], check=True)
    return target.render_as_string(hide_password=False)


def _drop(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_taken_while_serving_restores_every_upload(
    tmp_path: Path, database_url: str
) -> None:
    with serve(tmp_path / "live", database_url) as service:
        round_id, tokens = _round(service)
        content = hashed_bytes(round_id, "skola", list(range(500)))
        assert _upload(service, round_id, tokens["skola"], content) == 200
        if database_url.startswith("sqlite"):
            restored = _backup_sqlite(database_url, tmp_path)
        else:
            restored = _backup_postgres(database_url, tmp_path)
    try:
        with serve(tmp_path / "restored-service", restored) as service:
            with service.client() as client:
                assert client.get(f"/rounds/{round_id}").status_code == 200
            with service.client(tokens["skola"]) as client:
                assert client.get(f"/rounds/{round_id}/upload").json()["row_count"] == 500
        assert _content(restored, round_id) == [content]
    finally:
        _drop(restored)
