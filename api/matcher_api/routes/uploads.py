"""Uploads: a steward puts the agency's hashed file; a new one replaces the old atomically."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import date
from typing import Annotated

import polars as pl
from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect
from starlette.types import Message

from matcher.errors import MatcherError
from matcher.linkage.cases import in_window
from matcher.steward.hashed_file import check_frame, decode_hashed, read_header
from matcher_api import db, views
from matcher_api.admission import UploadLimits, check_footer, check_lengths, release_memory
from matcher_api.cache import UploadCache, new_key
from matcher_api.deps import (
    Credentials,
    CurrentAgency,
    RoundIdPath,
    Services,
    ServicesDep,
    SessionDep,
    authenticate_agency,
)
from matcher_api.errors import (
    ApiError,
    NotFoundError,
    PayloadTooLargeError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UnprocessableError,
)
from matcher_api.faults import crash_point
from matcher_api.footer_probe import probe_footer
from matcher_api.schemas import UploadPublic

router = APIRouter(prefix="/rounds/{round_id}/upload", tags=["uploads"])
logger = logging.getLogger("matcher_api.uploads")
Window = tuple[date | None, date | None]
BODY_PAUSE_SECONDS = 30.0  # callers that do not pass the service's setting

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "the hashed file (Parquet), as the raw body or a multipart 'file' part",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


async def read_body(request: Request, limit: int, pause: float = BODY_PAUSE_SECONDS) -> bytes:
    """The whole request body, refused with 413 as soon as it exceeds ``limit`` bytes and with
    408 when the client pauses longer than ``pause`` seconds between two parts of it."""
    declared = request.headers.get("content-length", "")
    too_large = f"the upload is larger than the limit of {limit} bytes"
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(too_large)
    chunks: list[bytes] = []
    size = 0
    stream = request.stream().__aiter__()
    try:
        while True:
            try:
                chunk = await asyncio.wait_for(anext(stream), pause)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise RequestTimeoutError(
                    f"the upload stalled for more than {pause:g} s; nothing was stored"
                ) from None
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(too_large)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError("the upload was interrupted; nothing was stored") from None
    return b"".join(chunks)


async def file_part(request: Request, body: bytes) -> bytes:
    """The 'file' part of a multipart body that has already been read (and size-checked)."""

    async def replay() -> Message:
        """Hand the already-read body to the form parser."""
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=4)
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise UnprocessableError("a multipart upload needs one 'file' part", reason="multipart")
    return await part.read()


# Decoding and checking the columns runs beside the database write of the file's bytes (both
# release the GIL). A decoded frame never leaves the thread that decoded it: that thread checks
# it and then writes its parsed copy (two threads on one polars frame deadlocked, issue 15).
_VALIDATORS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="validate")


def check_window_dates(frame: pl.DataFrame, window: Window | None) -> None:
    """Refuse rows whose signal date is missing or outside the round's window, when the round
    requires it (422 ``signal_window``; the message gives a count, never a date of a row)."""
    if window is None:
        return
    outside = frame.select((~in_window(*window)).sum()).item()
    if outside:
        raise UnprocessableError(
            f"{outside} rows have no signal date or one outside the round's window, and this "
            "round requires every row inside it; leave those rows out and hash again",
            reason="signal_window",
        )


def validate_and_cache(
    cache: UploadCache,
    content: bytes,
    key: str,
    timings: dict[str, float],
    window: Window | None = None,
) -> bool:
    """Decode and check a hashed file's columns (and its signal dates against ``window`` when
    the round requires it), then keep the checked frame in the upload cache; True if it was
    cached. Raises HashedFileError (or UnprocessableError) for a bad file, before anything is
    cached. One thread does all of it, one step after the other."""
    started = time.perf_counter()
    header, frame = decode_hashed(content)
    decoded = time.perf_counter()
    timings["decode"] = decoded - started
    check_lengths(frame)
    check_frame(header, frame)
    check_window_dates(frame, window)
    checked = time.perf_counter()
    timings["validate"] = checked - started
    cached = cache.write(key, frame)
    timings["cache"] = time.perf_counter() - checked
    return cached


def upload_limits(services: ServicesDep, allow_empty: bool) -> UploadLimits:
    """The bounds an upload to this service is held to."""
    settings = services.settings
    return UploadLimits(
        max_rows=settings.max_upload_rows,
        max_decoded_bytes=settings.max_decoded_bytes,
        max_decode_ratio=settings.max_decode_ratio,
        allow_empty=allow_empty,
    )


def store_upload(
    services: ServicesDep,
    scope: db.AgencyScope,
    content: bytes,
    timings: dict[str, float],
    limits: UploadLimits | None = None,
    deadline: float = math.inf,
) -> UploadPublic:
    """Validate a hashed file and replace the agency's upload in one transaction.

    The header and the footer (row count, sizes, columns) are checked before any column is
    decoded; the columns are then decoded, checked and cached in another thread while this one
    writes the file's bytes to the database, and the transaction commits only if both succeed
    and the request's time limit (monotonic ``deadline``) has not passed. As before, a bad file
    is reported before a conflict with the round. A refused file's memory is given back.
    ``limits`` default to the service's settings (empty files refused).
    """
    started = time.perf_counter()
    limits = limits or upload_limits(services, allow_empty=False)
    try:
        header = read_header(content)
        probe_footer(content)  # a footer that would end this process ends a helper instead
        check_footer(content, header, limits)
    except BaseException:
        release_memory()
        raise
    key = new_key()
    with db.transaction(services.factory) as session:
        window = db.required_window(session, scope.round_id)
    validation = _VALIDATORS.submit(
        validate_and_cache, services.cache, content, key, timings, window
    )
    try:
        with db.transaction(services.factory) as session:
            try:
                warning = db.unusual_size(session, scope, header.row_count, now=services.clock())
                row = db.replace_upload(
                    session, scope, header, content, now=services.clock(), cache_key=key
                )
            except ApiError:
                validation.result()  # a bad file's own error comes first
                raise
            stored = time.perf_counter()
            timings["store"] = stored - started
            if not validation.result():
                row.cache_key = None
            committing = time.perf_counter()
            timings["wait"] = committing - stored
            if time.monotonic() > deadline:
                raise ServiceUnavailableError(
                    "the upload took longer than the service's time limit; nothing was stored",
                    reason="timeout",
                )
            crash_point("upload.before_commit")
        crash_point("upload.after_commit")
    except BaseException:
        wait([validation])
        services.cache.remove([key])
        release_memory()
        raise
    timings["commit"] = time.perf_counter() - committing
    timings["total"] = time.perf_counter() - started
    info = db.UploadInfo(scope.label, row.row_count, row.size_bytes, row.key_check, row.uploaded_at)
    return views.upload_public(info).model_copy(update={"warning": warning})


async def store_received(
    services: Services,
    agency: db.AgencyScope,
    body: bytes,
    timings: dict[str, float],
    allow_empty: bool,
    deadline: float,
) -> UploadPublic:
    """Store a fully received upload once one of the service's validation slots is free (503
    after ``upload_queue_seconds``); the JSON route and the upload page both come through here.
    A refused file leaves an ``upload.refused`` audit event (reason code and status, never a
    value), so the coordinator sees refusals whichever way the file came."""
    slots = services.slots()
    try:
        await asyncio.wait_for(slots.acquire(), services.settings.upload_queue_seconds)
    except TimeoutError:
        raise ServiceUnavailableError(
            "too many uploads are being checked right now; try again shortly", reason="busy"
        ) from None
    try:
        limits = upload_limits(services, allow_empty)
        return await run_in_threadpool(
            store_upload, services, agency, body, timings, limits, deadline
        )
    except (ApiError, MatcherError) as exc:
        await run_in_threadpool(_audit_refusal, services, agency, exc)
        raise
    finally:
        slots.release()


def _audit_refusal(
    services: Services, agency: db.AgencyScope, exc: ApiError | MatcherError
) -> None:
    """Record that an agency's file was refused, with the reason code and status only, in the
    audit log and as one line of the service's log (never a trace: the client got a 4xx)."""
    reason = getattr(exc, "reason", None) or type(exc).__name__
    logger.warning(
        "upload refused: round %s, agency %s: %s (%d)",
        agency.round_id, agency.label, reason, exc.status_code,
    )  # fmt: skip
    with db.transaction(services.factory) as session:
        db.record_audit(
            session, actor=agency.actor, action="upload.refused", round_id=agency.round_id,
            now=services.clock(), agency=agency.label, reason=str(reason),
            status=exc.status_code,
        )  # fmt: skip


@router.put("", openapi_extra=UPLOAD_BODY)
async def put_upload(
    request: Request,
    response: Response,
    round_id: RoundIdPath,
    credentials: Credentials,
    services: ServicesDep,
    background: BackgroundTasks,
    allow_empty: Annotated[
        bool, Query(description="accept a file with no rows (it replaces the current list)")
    ] = False,
) -> UploadPublic:
    """Upload (or replace) the agency's hashed file; checked against the round before storing.

    The token is checked first (in a database session closed at once); the body is then read in
    full, with a time limit between its parts, before any database connection is taken again.
    At most ``max_concurrent_uploads`` files are decoded at once; others wait for a slot (503
    after ``upload_queue_seconds``). The ``Server-Timing`` header says how long receiving,
    decoding, validating (decoding and checking), caching the checked file (after the checks)
    and storing took (validating and caching run beside storing), the wait for them after
    storing, the commit, and the total after receiving.
    """
    settings = services.settings
    deadline = time.monotonic() + settings.request_timeout_seconds
    agency = await run_in_threadpool(authenticate_agency, services, credentials, round_id)
    started = time.perf_counter()
    body = await read_body(request, settings.max_upload_bytes, settings.body_read_timeout_seconds)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        body = await file_part(request, body)
    timings = {"receive": time.perf_counter() - started}
    public = await store_received(services, agency, body, timings, allow_empty, deadline)
    response.headers["Server-Timing"] = ", ".join(
        f"{name};dur={seconds * 1000:.1f}" for name, seconds in timings.items()
    )
    # Copy the new file from SQLite's log into the database after the response, so that a
    # later upload does not pay for a checkpoint of several files at once (no-op on PostgreSQL).
    background.add_task(db.checkpoint, services.engine)
    return public


@router.get("")
def get_upload(agency: CurrentAgency, session: SessionDep) -> UploadPublic:
    """The agency's current upload (metadata only)."""
    info = db.own_upload(session, agency)
    if info is None:
        raise NotFoundError("this agency has not uploaded a file for the round")
    return views.upload_public(info)
