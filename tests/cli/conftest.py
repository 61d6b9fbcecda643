"""Fixtures for CLI tests against a real service: the database (SQLite and, when configured,
PostgreSQL) and the service on loopback (defined beside the round/upload/results tests)."""

from tests.api.conftest import database_url, postgres_url  # noqa: F401  (fixtures)
from tests.cli.test_round_upload_results import server  # noqa: F401  (fixture)
