"""Alembic environment: runs migrations on the connection handed over by db.upgrade_database."""

from __future__ import annotations

from alembic import context

from matcher_api.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the service always passes its connection
    raise RuntimeError("run migrations through matcher_api.db.upgrade_database(engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
