"""Engine, sessions and migrations: SQLite (WAL, foreign keys) or PostgreSQL, Alembic at startup."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Engine,
    create_engine,
    event,
)
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from matcher_api.cache import UploadCache
from matcher_api.db.models import MIGRATIONS_DIR

logger = logging.getLogger("matcher_api.db")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA page_size=65536")  # large pages: uploads are multi-megabyte blobs
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, not merely unlinked (set explicitly: the default
    # depends on how the local SQLite library was compiled).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints run in the background (checkpoint()); this is only the safety net (256 MiB).
    cursor.execute("PRAGMA wal_autocheckpoint=4096")
    cursor.close()


def make_engine(
    url: str,
    *,
    pooled: bool = True,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
) -> Engine:
    """An engine for a SQLite or PostgreSQL URL (SQLite: directory created, WAL, foreign keys).

    A pooled engine waits at most ``pool_timeout`` seconds for a connection (then SQLAlchemy's
    TimeoutError, answered 503 by the service)."""
    kwargs: dict[str, Any] = {}
    if not pooled:
        kwargs["poolclass"] = NullPool
    else:
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:  # an in-memory database has a single-connection pool without these settings
            for name in ("pool_size", "max_overflow", "pool_timeout"):
                kwargs.pop(name, None)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def checkpoint(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database file without blocking anyone.

    Done in the background so that uploads do not pay for it; a no-op on PostgreSQL.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def scrub_deleted(engine: Engine, tables: Sequence[str]) -> bool:
    """After a purge: leave no copy of deleted rows in any file the database owns.

    SQLite (``secure_delete`` zeroes the freed pages): the write-ahead log, whose older frames
    still hold the rows, is copied into the database file and truncated to zero bytes. PostgreSQL:
    ``VACUUM FULL`` rewrites ``tables`` (and their TOAST) into new files and removes the old ones;
    a plain VACUUM would only mark the dead tuples' space reusable, leaving their bytes in place
    until overwritten. Returns False when SQLite could not truncate the log because another
    connection was reading (the next purge or start-up checkpoint finishes it).
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        return not busy
    if engine.dialect.name == "postgresql":
        names = ", ".join(f'"{name}"' for name in tables)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM FULL {names}")
    return True


def session_factory(engine: Engine, cache: UploadCache | None = None) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit; its sessions carry the upload
    cache, so that replacing or purging an upload also removes its parsed copy."""
    return sessionmaker(engine, expire_on_commit=False, info={"upload_cache": cache})


def upload_cache(session: Session) -> UploadCache | None:
    """The upload cache of a session's factory (None: no cache)."""
    cache: UploadCache | None = session.info.get("upload_cache")
    return cache


def _alembic(engine: Engine, step: Callable[[Config], None]) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config)


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to an Alembic revision, the newest by default (creates it if empty)."""
    _alembic(engine, lambda config: command.upgrade(config, revision))


def downgrade_database(engine: Engine, revision: str = "base") -> None:
    """Take the schema back to an Alembic revision (``base``: drop every table)."""
    _alembic(engine, lambda config: command.downgrade(config, revision))


def close_session(session: Session) -> None:
    """Close a session; if the database dropped its connection (the rollback on close fails),
    the connection is discarded and one line is logged instead of an error after the response."""
    try:
        session.close()
    except (OperationalError, InterfaceError) as exc:
        logger.warning("database connection lost; discarded (%s)", type(exc.orig).__name__)
        with suppress(SQLAlchemyError):
            session.invalidate()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session
