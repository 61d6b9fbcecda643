"""Matching off the event loop: a worker process (or thread) runs the linkage core for a round.

The worker reads the round's uploads from the database itself, links them, turns the cases into
one pre-filtered view per agency (only that agency's refs, policy applied) plus the
coordinator's case list, and records the job's status: queued, running, done or failed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matcher.disclosure import build_views
from matcher.errors import MatcherError
from matcher.steward.hashed_file import HASHED_SCHEMA, HashedFile, HashedFileHeader
from matcher_api import db
from matcher_api.cache import UploadCache
from matcher_api.faults import crash_point

logger = logging.getLogger("matcher_api.jobs")


def _now() -> datetime:
    return datetime.now(UTC)


def to_ipc(frame: pl.DataFrame) -> bytes:
    """Serialise a result frame for storage: Arrow IPC (an order of magnitude faster to write
    than Parquet for these nested frames), lz4 (the views of 5 x 200k records in about half the
    time of zstd; 11 MB against 4.8 MB), written by pyarrow from polars' own string views (no
    conversion: 0.07-0.10 s against 0.10-0.13 s through polars' writer)."""
    table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="lz4")  # per call: no Arrow object is shared
    with pa.ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def stored_frame(content: bytes) -> pl.DataFrame:
    """The columns of an upload from the database: it passed ``read_hashed`` when it was
    uploaded, so only the columns are decoded here (no second validation)."""
    return pl.read_parquet(content)


def cached_frame(
    cache: UploadCache | None, upload: db.StoredUpload, header: HashedFileHeader
) -> pl.DataFrame | None:
    """An upload's parsed copy from the cache (memory-mapped: no decoding), if it is there and
    has the hashed-file columns and row count; None means: decode it from the database."""
    frame = None if cache is None else cache.read(upload.cache_key)
    if frame is None or frame.schema != pl.Schema(HASHED_SCHEMA):
        return None
    return frame if frame.height == header.row_count else None


def load_files(session: Session, round_id: str) -> dict[str, tuple[int, HashedFile]]:
    """Every current upload of a round by label (agency id, hashed file): the parsed copy from
    the upload cache where there is one, else the stored bytes decoded, one file in a thread
    while the next is read (polars releases the GIL)."""
    uploads = db.round_uploads(session, round_id)
    cache = db.upload_cache(session)
    headers = {u.agency_id: HashedFileHeader.model_validate_json(u.header_json) for u in uploads}
    frames = {u.agency_id: cached_frame(cache, u, headers[u.agency_id]) for u in uploads}
    missing = [agency_id for agency_id, frame in frames.items() if frame is None]
    if missing:
        with ThreadPoolExecutor(max_workers=2) as pool:
            parsing = {
                agency_id: pool.submit(stored_frame, content)
                for _, agency_id, _, content in db.stream_uploads(session, round_id, missing)
            }
            frames.update({agency_id: future.result() for agency_id, future in parsing.items()})
    return {
        u.label: (u.agency_id, HashedFile(header=headers[u.agency_id], frame=frame))
        for u in uploads
        if (frame := frames.get(u.agency_id)) is not None  # none: purged meanwhile
    }


def run_match_job(
    database_url: str, round_id: str, job_id: int, cache_dir: str | None = None
) -> None:
    """Worker entry point: link a round's uploads and store the results (own engine)."""
    engine = db.make_engine(database_url, pooled=False)
    cache = None if cache_dir is None else UploadCache(Path(cache_dir))
    try:
        match_round(db.session_factory(engine, cache), round_id, job_id)
    finally:
        engine.dispose()


def match_round(factory: sessionmaker[Session], round_id: str, job_id: int) -> None:
    """Run one matching job against the database behind ``factory``; never raises.

    Every status change is conditional on the status this worker left (queued -> running ->
    done or failed): a job a restarted service has already marked as failed, or a newer upload
    has made stale, is never overwritten by a worker that outlived its service.
    """
    with db.transaction(factory) as session:
        if not db.advance_job(session, job_id, "queued", "running", started_at=_now()):
            return
        round_row = session.get(db.Round, round_id)
        if round_row is None:
            return
        k, window = round_row.k, (round_row.window_from, round_row.window_to)
        policy = round_row.disclosure_policy
        uploads = db.upload_generation(session, round_id)
    crash_point("match.running")
    timings: dict[str, float] = {}
    clock = time.perf_counter
    try:
        from matcher.linkage.linkage import link

        started = clock()
        with factory() as session:
            loaded = load_files(session, round_id)
        agency_ids = {label: agency_id for label, (agency_id, _) in loaded.items()}
        files = [hashed for _, hashed in loaded.values()]
        del loaded
        timings["load_and_parse_s"] = clock() - started
        started = clock()
        result = link(files, k=k, window_from=window[0], window_to=window[1])
        core_seconds = timings["core_s"] = clock() - started
        started = clock()
        views, case_list = build_views(result.cases, list(agency_ids), policy)
        timings["views_s"] = clock() - started
        started = clock()
        blobs = {agency_ids[label]: (view.height, to_ipc(view)) for label, view in views.items()}
        listing = (case_list.height, to_ipc(case_list))
        timings["serialise_s"] = clock() - started
        record_count = int(result.cases.height)
        stats = json.dumps({**result.stats.as_dict(), "service": timings}, sort_keys=True)
    except MatcherError as exc:
        _fail(factory, round_id, job_id, str(exc), uploads)
        return
    except Exception as exc:  # the message may quote data; record only the kind of failure
        logger.error("matching round failed with %s", type(exc).__name__)
        message = f"internal error in matching ({type(exc).__name__})"
        _fail(factory, round_id, job_id, message, uploads)
        return
    with db.transaction(factory) as session:
        if db.lock_round(session, round_id) is None:  # purged while matching
            return
        now = _now()  # finished: the results are written (the commit follows at once)
        if db.upload_generation(session, round_id) != uploads:  # an upload replaced meanwhile
            db.advance_job(
                session, job_id, "running", "stale", finished_at=now, error=REPLACED_WHILE_MATCHING
            )
            return
        done = db.advance_job(
            session,
            job_id,
            "running",
            "done",
            finished_at=now,
            case_count=listing[0],
            record_count=record_count,
            core_seconds=core_seconds,
            stats_json=stats,
        )
        if not done:  # failed by a restarted service: this worker's results are not wanted
            return
        db.store_results(session, round_id, agency_views=blobs, case_list=listing, now=now)
        db.record_audit(
            session,
            actor="service",
            action="match.done",
            round_id=round_id,
            now=now,
            cases=listing[0],
            records=record_count,
        )
        crash_point("match.before_commit")
    crash_point("match.after_commit")


REPLACED_WHILE_MATCHING = "an agency uploaded a new file while matching ran; match again"


def _fail(
    factory: sessionmaker[Session],
    round_id: str,
    job_id: int,
    message: str,
    uploads: list[tuple[object, ...]],
) -> None:
    """Record a job that raised as failed, or as stale when an upload was replaced while it ran
    (it may then have read a mix of old and new files, which is what it tripped over)."""
    with db.transaction(factory) as session:
        now = _now()
        if db.upload_generation(session, round_id) != uploads:
            db.advance_job(
                session, job_id, "running", "stale", finished_at=now, error=REPLACED_WHILE_MATCHING
            )
            return
        failed = db.advance_job(
            session, job_id, "running", "failed", finished_at=now, error=message
        )
        if failed and session.get(db.Round, round_id) is not None:
            db.record_audit(
                session, actor="service", action="match.failed", round_id=round_id, now=now
            )


PR_SET_PDEATHSIG = 1
WATCHDOG_SECONDS = 1.0


def exit_with_parent(parent: int) -> None:
    """Worker initialiser: end this worker when the service process dies, however it dies.

    On Linux the kernel sends SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG); a
    watchdog thread that polls the parent's pid does the same elsewhere, and covers the moment
    before prctl took effect.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:
        """Poll the parent; end this process at once when it has gone."""
        while True:
            if os.getppid() != parent:
                os._exit(70)
            time.sleep(WATCHDOG_SECONDS)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _warm_up() -> None:
    """Import the heavy modules in the worker ahead of the first job."""
    with contextlib.suppress(ImportError):
        from matcher.linkage.linkage import warm_up

        warm_up()


class MatchRunner:
    """Runs matching jobs one at a time in a spawned process (default) or a thread."""

    def __init__(
        self,
        database_url: str,
        factory: sessionmaker[Session],
        mode: Literal["process", "thread"] = "process",
    ) -> None:
        self._database_url = database_url
        cache = factory.kw.get("info", {}).get("upload_cache")
        self._cache_dir = None if cache is None else str(cache.directory)
        self._factory = factory
        self._mode = mode
        self._executor: Executor | None = None

    def _ensure(self) -> Executor:
        if self._executor is None:
            if self._mode == "process":
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=context,
                    initializer=exit_with_parent,
                    initargs=(os.getpid(),),
                )
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="match")
        return self._executor

    def warm_up(self) -> None:
        """Start the worker and import the linkage core in it, so the first job starts fast."""
        if self._mode == "process":
            self._ensure().submit(_warm_up)

    def submit(self, round_id: str, job_id: int) -> Future[None]:
        """Queue a job; if the worker dies, the job is recorded as failed."""
        future: Future[None]
        if self._mode == "process":
            try:
                future = self._ensure().submit(
                    run_match_job, self._database_url, round_id, job_id, self._cache_dir
                )
            except BrokenProcessPool:  # the last worker died (e.g. out of memory): start anew
                self._executor = None
                future = self._ensure().submit(
                    run_match_job, self._database_url, round_id, job_id, self._cache_dir
                )
        else:
            future = self._ensure().submit(match_round, self._factory, round_id, job_id)
        future.add_done_callback(self._after(job_id))
        return future

    def _after(self, job_id: int) -> Callable[[Future[None]], None]:
        def check(future: Future[None]) -> None:
            """Record the job as failed if the worker died or was stopped."""
            if future.cancelled() or future.exception() is not None:
                with db.transaction(self._factory) as session:
                    job = session.scalars(
                        select(db.MatchJob).where(db.MatchJob.id == job_id)
                    ).first()
                    if job is not None and job.status in db.JOB_ACTIVE:
                        db.set_job_status(
                            session, job_id, "failed", finished_at=_now(), error="worker stopped"
                        )

        return check

    def shutdown(self) -> None:
        """Stop the worker (pending jobs are cancelled and recorded as failed)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
