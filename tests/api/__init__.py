"""Coordinator service tests (HTTP API, storage, jobs), on SQLite and PostgreSQL."""
