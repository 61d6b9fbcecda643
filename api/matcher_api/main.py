"""The coordinator service: ``create_app(settings)`` builds the FastAPI app.

Creating the app migrates the database (Alembic), makes sure a coordinator token exists,
marks jobs interrupted by a restart as failed and purges expired rounds; a background task
keeps purging while the app runs. One set of handlers maps every error to a 4xx JSON body
``{"detail", "reason"}``; bad input never yields a 500.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from matcher import __version__
from matcher.errors import MatcherError
from matcher_api import db, footer_probe
from matcher_api.cache import UploadCache
from matcher_api.deps import Services
from matcher_api.errors import ApiError
from matcher_api.jobs import MatchRunner
from matcher_api.limits import TimeLimitMiddleware
from matcher_api.routes import admin, results, rounds, uploads
from matcher_api.routes import followup as followup_routes
from matcher_api.schemas import ErrorPublic
from matcher_api.security import hash_token
from matcher_api.settings import Settings, get_settings
from matcher_api.web import mount as mount_pages

logger = logging.getLogger("matcher_api")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorPublic, "description": text}
    for code, text in {
        400: "bad request",
        401: "missing or unknown bearer token",
        403: "wrong role, or a token of another round",
        404: "no such round, upload or result (or it was purged)",
        409: "conflicts with the round's state or fixed parameters",
        408: "the request body arrived too slowly",
        413: "upload larger than the configured limit (bytes, rows or decoded size)",
        422: "invalid request or hashed file",
        503: "busy, over the time limit, or the database is unavailable; try again shortly",
    }.items()
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def prepare_database(settings: Settings, *, rotate_token: bool = False) -> str | None:
    """Migrate the database and make sure a coordinator token exists.

    Returns a newly generated coordinator token (to be shown once), or None when one was
    configured or had already been generated.
    """
    engine = db.make_engine(settings.resolved_database_url, pooled=False)
    try:
        db.upgrade_database(engine)
        configured = bool(settings.coordinator_token or settings.coordinator_token_hash)
        with db.transaction(db.session_factory(engine)) as session:
            return db.ensure_coordinator_token(session, configured=configured, rotate=rotate_token)
    finally:
        engine.dispose()


TOKEN_FILE = "coordinator-token"


def write_token_file(settings: Settings, token: str) -> Path:
    """Write a generated coordinator token to ``data_dir/coordinator-token``, readable only by
    the service's user (mode 0600), so that it never has to pass through a log."""
    path = settings.data_dir / TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(token + "\n")
    return path


def start_services(settings: Settings, clock: Callable[[], datetime]) -> Services:
    """Open the database, migrate it, bootstrap the coordinator token and tidy up after a stop."""
    generated = prepare_database(settings)
    url = settings.resolved_database_url
    engine = db.make_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    cache = UploadCache(settings.upload_cache_dir)
    factory = db.session_factory(engine, cache)
    if settings.coordinator_token is not None:
        coordinator_hash = hash_token(settings.coordinator_token.get_secret_value())
    elif settings.coordinator_token_hash is not None:
        coordinator_hash = settings.coordinator_token_hash
    else:
        with factory() as session:
            coordinator_hash = db.stored_coordinator_hash(session) or ""
    now = clock()
    with db.transaction(factory) as session:
        db.fail_interrupted_jobs(session, now=now)
    db.purge_expired(factory, now=now)
    db.finish_pending_scrub(factory)  # a purge committed just before the service stopped
    runner = MatchRunner(url, factory, settings.job_executor)
    services = Services(
        settings, engine, factory, runner, clock, cache, coordinator_hash, generated
    )
    prune_cache(services)  # copies of uploads replaced or purged while the service was down
    return services


CHECKPOINT_SECONDS = 20.0


def prune_cache(services: Services) -> int:
    """Delete parsed copies no upload names (one whose removal failed, or left by a crash)."""
    with services.factory() as session:
        return services.cache.prune(db.cache_keys(session))


async def _maintain(services: Services) -> None:
    """While the app runs: checkpoint the SQLite log every few seconds (off the request path);
    purge expired rounds and stray upload copies every ``purge_interval_seconds``."""
    interval = services.settings.purge_interval_seconds
    tick = min(interval, CHECKPOINT_SECONDS)
    since_purge = 0.0
    while True:
        await asyncio.sleep(tick)
        since_purge += tick
        try:
            await run_in_threadpool(db.checkpoint, services.engine)
            if since_purge >= interval:
                since_purge = 0.0
                await run_in_threadpool(db.purge_expired, services.factory, now=services.clock())
                await run_in_threadpool(prune_cache, services)
        except Exception as exc:  # try again on the next tick; log only the kind of failure
            logger.error("service maintenance failed with %s", type(exc).__name__)


def _error(
    status: int, detail: str, reason: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorPublic(detail=detail, reason=reason).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        """The service's own refusals, with their status code."""
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return _error(exc.status_code, exc.message, exc.reason, headers)

    @app.exception_handler(MatcherError)
    async def matcher_error(_: Request, exc: MatcherError) -> JSONResponse:
        """Library errors, with the status code each class carries (key mismatch 409, else 422)."""
        status = exc.status_code
        reason = exc.reason or re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
        return _error(status, str(exc), reason)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        """Invalid requests: 422 naming each field and rule."""
        # Say where and what, never echo the input (it could be anything a client sent).
        problems = [
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in exc.errors()
        ]
        return _error(422, "invalid request: " + "; ".join(problems), "validation")

    @app.exception_handler(IntegrityError)
    async def integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
        """Constraint clashes between concurrent requests: 409."""
        # Two requests raced (same round id, same agency uploading twice at once).
        message = "the request clashed with a concurrent change; try again"
        return _error(409, message, "concurrent_change")

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        """Values the database cannot hold (a NUL character, say) are bad input: 422."""
        return _error(422, "the request holds a value the database cannot store", "data")

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unavailable(
        _: Request, exc: OperationalError | InterfaceError
    ) -> JSONResponse:
        """A database that cannot be reached, dropped the connection or is locked: 503."""
        logger.error("database error: %s", type(exc.orig).__name__)
        return _error(503, "the database is unavailable; try again shortly", "database")

    @app.exception_handler(PoolTimeoutError)
    async def database_busy(_: Request, exc: PoolTimeoutError) -> JSONResponse:
        """Every database connection in use for longer than the pool timeout: 503."""
        logger.error("database busy: no free connection within the pool timeout")
        return _error(503, "the database is busy; try again shortly", "database_busy")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Unknown paths and methods, in the same error shape."""
        return _error(exc.status_code, str(exc.detail), "http", getattr(exc, "headers", None))


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None
) -> FastAPI:
    """Build the coordinator service for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    services = start_services(settings, clock or _utcnow)
    if services.generated_token is not None:
        path = write_token_file(settings, services.generated_token)
        logger.warning("no coordinator token was configured; generated one, written to %s", path)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """Warm the match worker up; maintain the database while serving."""
        services.runner.warm_up()
        footer_probe.warm_up()
        task = asyncio.create_task(_maintain(services))
        try:
            yield
        finally:
            task.cancel()
            services.runner.shutdown()
            footer_probe.shutdown()

    app = FastAPI(
        title="matcher coordinator",
        summary="Find children flagged by several agencies without sharing raw lists (SSPF).",
        version=__version__,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.services = services
    app.add_middleware(TimeLimitMiddleware, seconds=settings.request_timeout_seconds)
    for module in (admin, rounds, uploads, results):
        app.include_router(module.router)
    app.include_router(followup_routes.router)
    _install_error_handlers(app)
    mount_pages(app)  # the web pages under /web (matcher_api.web)
    return app
