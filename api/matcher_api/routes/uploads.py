"""Uploads: a steward puts the agency's hashed file; a new one replaces the old atomically."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect
from starlette.types import Message

from matcher.steward.hashed_file import check_frame, decode_hashed, read_header
from matcher_api import db, views
from matcher_api.cache import UploadCache, new_key
from matcher_api.deps import CurrentAgency, ServicesDep, SessionDep
from matcher_api.errors import ApiError, NotFoundError, PayloadTooLargeError, UnprocessableError
from matcher_api.schemas import UploadPublic

router = APIRouter(prefix="/rounds/{round_id}/upload", tags=["uploads"])

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


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    too_large = f"the upload is larger than the limit of {limit} bytes"
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(too_large)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
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


# Decoding and checking the columns runs beside the database write (both release the GIL);
# the parsed copy is written beside the column checks.
_VALIDATORS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="validate")
_CACHE_WRITERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cache")


def validate_and_cache(
    cache: UploadCache, content: bytes, key: str, timings: dict[str, float]
) -> bool:
    """Decode and check a hashed file's columns, keeping the parsed frame in the upload cache
    (written while the columns are checked); True if it was cached. Raises HashedFileError for
    a bad file, once its copy (if any) has been written, so the caller can remove it."""
    started = time.perf_counter()
    header, frame = decode_hashed(content)
    decoded = time.perf_counter()
    timings["decode"] = decoded - started
    writing = _CACHE_WRITERS.submit(cache.write, key, frame)
    try:
        check_frame(header, frame)
        timings["validate"] = time.perf_counter() - started
    finally:
        cached = writing.result()
        timings["cache"] = time.perf_counter() - decoded
    return cached


def store_upload(
    services: ServicesDep, scope: db.AgencyScope, content: bytes, timings: dict[str, float]
) -> UploadPublic:
    """Validate a hashed file and replace the agency's upload in one transaction.

    The header (from the file's footer) is checked against the round first; the columns are
    then decoded and checked in another thread while this one writes the file to the database,
    and the transaction commits only if both succeed. As before, a bad file is reported
    before a conflict with the round.
    """
    started = time.perf_counter()
    header = read_header(content)
    key = new_key()
    validation = _VALIDATORS.submit(validate_and_cache, services.cache, content, key, timings)
    try:
        with db.transaction(services.factory) as session:
            try:
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
    except BaseException:
        wait([validation])
        services.cache.remove([key])
        raise
    timings["commit"] = time.perf_counter() - committing
    timings["total"] = time.perf_counter() - started
    info = db.UploadInfo(scope.label, row.row_count, row.size_bytes, row.key_check, row.uploaded_at)
    return views.upload_public(info)


@router.put("", openapi_extra=UPLOAD_BODY)
async def put_upload(
    request: Request,
    response: Response,
    agency: CurrentAgency,
    services: ServicesDep,
    background: BackgroundTasks,
) -> UploadPublic:
    """Upload (or replace) the agency's hashed file; checked against the round before storing.

    The ``Server-Timing`` header says how long receiving, decoding, validating (decoding and
    checking), caching the parsed file (beside the checks) and storing took (validating and
    caching run beside storing), the wait for them after storing, the commit, and the total
    after receiving.
    """
    started = time.perf_counter()
    body = await read_body(request, services.settings.max_upload_bytes)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        body = await file_part(request, body)
    timings = {"receive": time.perf_counter() - started}
    public = await run_in_threadpool(store_upload, services, agency, body, timings)
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
