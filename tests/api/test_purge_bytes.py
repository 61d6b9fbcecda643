"""Deletion removes the bytes: after a purge, no ref of the round is left in any file the
service owns (SQLite database, its log and shared memory, the upload cache; on PostgreSQL the
files of the round tables and their TOAST), though the same search finds them before."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from matcher_api import db
from tests.api.factories import Api, hashed_bytes, refs_of

AGENCY_ROWS = 600


def _service_files(api: Api) -> list[Path]:
    """Every file the service of ``api`` keeps (see :func:`service_files`)."""
    return service_files(Path(api.app.state.services.settings.data_dir), api.database_url)


def service_files(data_dir: Path, database_url: str) -> list[Path]:
    """Every file a service keeps: under its data folder, or the PostgreSQL relation files
    of the tables that hold a round's rows (after a CHECKPOINT, so they are on disk)."""
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    if not database_url.startswith("postgresql"):
        return files
    engine = create_engine(database_url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CHECKPOINT"))
            data_dir = Path(connection.execute(text("SHOW data_directory")).scalar_one())
            rows = connection.execute(
                text(
                    "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
                    "WHERE c.relname IN ('uploads', 'agency_results', 'round_results') "
                    "OR c.oid IN (SELECT reltoastrelid FROM pg_class "
                    "WHERE relname IN ('uploads', 'agency_results', 'round_results'))"
                )
            ).scalars()
            paths = [data_dir / p for p in rows if p]
    finally:
        engine.dispose()
    for path in paths:  # a relation over 1 GB continues in path.1, path.2, ...
        files.extend(sorted(path.parent.glob(path.name + "*")))
    return files


def refs_found(files: list[Path], refs: set[str]) -> int:
    """How many of ``refs`` appear as bytes in any of ``files``."""
    pattern = re.compile(b"|".join(re.escape(r.encode()) for r in refs))
    found: set[bytes] = set()
    for path in files:
        found.update(pattern.findall(path.read_bytes()))
    return len(found)


def test_purge_leaves_no_ref_in_any_service_file(api: Api) -> None:
    round_id, tokens = api.create_round()
    refs: set[str] = set()
    for offset, agency in enumerate(("skola", "socialtjanst")):
        content = hashed_bytes(round_id, agency, list(range(offset, offset + AGENCY_ROWS)))
        refs |= set(refs_of(content))
        assert api.upload(round_id, tokens[agency], content).is_success
    assert api.match(round_id)["status"] == "done"
    before = refs_found(_service_files(api), refs)
    assert before > len(refs) // 10, "the search must find the refs while the round exists"

    response = api.client.delete(f"/rounds/{round_id}", headers=api.coordinator)
    assert response.status_code == 200, response.text
    assert refs_found(_service_files(api), refs) == 0


def test_a_scrub_that_did_not_run_is_finished_at_the_next_start(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A purge commits a ``scrub_pending`` marker with its deletions; only its scrub clears it,
    so a service stopped in between scrubs when it next starts."""
    from matcher_api.db import rounds
    from matcher_api.db.engine import scrub_deleted

    round_id, tokens = api.create_round()
    assert api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", [1])).is_success
    scrubbed: list[str] = []

    def stopped(*_: object) -> bool:
        raise OperationalError("VACUUM", {}, Exception("the service stopped"))

    monkeypatch.setattr(rounds, "scrub_deleted", stopped)
    assert api.client.delete(f"/rounds/{round_id}", headers=api.coordinator).status_code == 200
    factory = api.app.state.services.factory
    with factory() as session:
        assert session.get(db.ServiceState, db.SCRUB_PENDING_KEY) is not None

    def counted(engine: Engine, tables: list[str]) -> bool:
        scrubbed.append(engine.dialect.name)
        return scrub_deleted(engine, tables)

    monkeypatch.setattr(rounds, "scrub_deleted", counted)
    assert db.finish_pending_scrub(factory)
    assert scrubbed
    with factory() as session:
        assert session.get(db.ServiceState, db.SCRUB_PENDING_KEY) is None
    assert not db.finish_pending_scrub(factory)
