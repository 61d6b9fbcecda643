"""Schema migrations, the coordinator token bootstrap and the settings' refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError

from matcher_api import db
from matcher_api.main import create_app, prepare_database
from matcher_api.security import hash_token, token_matches
from matcher_api.settings import Settings
from tests.api.factories import Api, bearer


def test_migrations_create_exactly_the_models(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        db.upgrade_database(engine)
        db.upgrade_database(engine)  # idempotent
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            assert compare_metadata(context, db.Base.metadata) == []
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in db.Base.metadata.sorted_tables} | {"alembic_version"} == tables
        db.downgrade_database(engine)  # reversible: down to nothing, and up again
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        db.upgrade_database(engine)
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()


def test_generated_coordinator_token_is_shown_once_and_stored_hashed(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(coordinator_token=None)
    token = prepare_database(settings)
    assert token is not None and len(token) >= 43
    assert prepare_database(settings) is None  # already there: not shown again
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/rounds", headers=bearer(token)).status_code == 200
        assert client.get("/rounds", headers=bearer(token + "x")).status_code == 401
        with app.state.services.factory() as session:
            values = session.scalars(select(db.ServiceState.value)).all()
        assert token not in values and hash_token(token) in values
    rotated = prepare_database(settings, rotate_token=True)
    assert rotated is not None and rotated != token
    app.state.services.engine.dispose()


def test_coordinator_token_hash_from_configuration(make_settings: Callable[..., Settings]) -> None:
    token = "a-long-enough-coordinator-token-from-a-vault-0001"
    settings = make_settings(coordinator_token=None, coordinator_token_hash=hash_token(token))
    assert prepare_database(settings) is None
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/rounds", headers=bearer(token)).status_code == 200
    app.state.services.engine.dispose()


def test_settings_refuse_placeholders_and_resolve_urls(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(coordinator_token="changethis")
    Settings(coordinator_token="changethis", environment="development")
    with pytest.raises(ValidationError, match="64 hex"):
        Settings(coordinator_token_hash="abc")
    assert Settings(data_dir=tmp_path).resolved_database_url == f"sqlite:///{tmp_path}/matcher.db"
    url = Settings(database_url="postgresql://u@h/db").resolved_database_url
    assert url == "postgresql+psycopg://u@h/db"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from matcher_api.settings import get_settings

    monkeypatch.setenv("MATCHER_SMALL_COUNT_THRESHOLD", "3")
    monkeypatch.setenv("MATCHER_MAX_UPLOAD_BYTES", "4096")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.small_count_threshold == 3 and settings.max_upload_bytes == 4096
        assert get_settings() is settings
    finally:
        get_settings.cache_clear()


def test_token_helpers() -> None:
    assert token_matches("abc", hash_token("abc"))
    assert not token_matches("abd", hash_token("abc"))


def test_interrupted_jobs_are_marked_failed_on_restart(
    database_url: str, make_api: Callable
) -> None:
    api = make_api()
    round_id, _ = api.create_round()
    with db.transaction(api.app.state.services.factory) as session:
        round_row = session.get(db.Round, round_id)
        assert round_row is not None
        session.add(db.MatchJob(round_id=round_id, status="running", requested_at=api.clock()))
    restarted = make_api()
    job = restarted.client.get(f"/rounds/{round_id}/match", headers=restarted.coordinator).json()
    assert job["status"] == "failed" and "restart" in job["error"]


def test_racing_writes_and_database_outages_are_not_500(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def clash(*_: object, **__: object) -> None:
        raise IntegrityError("INSERT", {}, Exception("unique constraint"))

    def down(*_: object, **__: object) -> None:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(db, "create_round", clash)
    body = {"name": "x", "legal_basis": "consent", "agencies": ["a", "b"]}
    response = api.client.post("/rounds", json=body, headers=api.coordinator)
    assert response.status_code == 409 and response.json()["reason"] == "concurrent_change"
    monkeypatch.setattr(db, "list_rounds", down)
    response = api.client.get("/rounds", headers=api.coordinator)
    assert response.status_code == 503 and "locked" not in response.text


def test_checkpoint_runs_on_every_backend_and_leaves_no_log_behind(api: Api) -> None:
    from tests.api.factories import hashed_bytes

    round_id, tokens = api.create_round()
    content = hashed_bytes(round_id, "skola", list(range(1, 3000)))
    assert api.upload(round_id, tokens["skola"], content).status_code == 200
    engine = api.app.state.services.engine
    db.checkpoint(engine)  # a no-op on PostgreSQL
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            busy, logged, copied = connection.exec_driver_sql(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).one()
        assert busy == 0 and logged == copied > 0
