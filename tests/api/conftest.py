"""Fixtures: every API test runs on SQLite and, if MATCHER_TEST_DATABASE_URL is set, PostgreSQL.

PostgreSQL runs use one uniquely named throwaway database per test session (created here,
dropped at the end); its tables are emptied before each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, make_url, text

from matcher_api import db
from matcher_api.main import create_app
from matcher_api.settings import Settings
from tests.api.factories import COORDINATOR_TOKEN, Api, Clock

POSTGRES_ENV = "MATCHER_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (skipped when none is configured)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"matcher_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_tables(url: str) -> None:
    engine = create_engine(url)
    try:
        present = set(inspect(engine).get_table_names())
        tables = [t.name for t in db.Base.metadata.sorted_tables if t.name in present]
        if tables:
            with engine.begin() as connection:
                names = ", ".join(f'"{t}"' for t in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database a test runs on: a SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'matcher.db').as_posix()}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_tables(url)
    return url


@pytest.fixture
def clock() -> Clock:
    """The app's clock."""
    return Clock()


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test app; keyword arguments override the test defaults."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path,
            "coordinator_token": COORDINATOR_TOKEN,
            "job_executor": "thread",
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def make_api(
    make_settings: Callable[..., Settings], clock: Clock, database_url: str
) -> Iterator[Callable[..., Api]]:
    """Start an app (lifespan included) with overridden settings; closed after the test."""
    clients: list[TestClient] = []

    def start(**overrides: Any) -> Api:
        app = create_app(make_settings(**overrides), clock=clock)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return Api(client=client, app=app, clock=clock, database_url=database_url)

    yield start
    for client in clients:
        client.__exit__(None, None, None)
        client.app.state.services.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """The coordinator service with test settings."""
    return make_api()
