"""Read an upload's Parquet footer in a helper process first, so a damaged footer cannot end
the service.

pyarrow ends the whole process (a C++ ``std::terminate``, not a Python exception) on some
damaged footers: reading one column chunk's metadata whose size histograms disagree raises
``parquet::ParquetException`` where no handler can catch it (found by fuzzing uploads, issue
13). The footer alone (a few kB) is sent to one long-lived helper process that reads every
column chunk's metadata; if the helper dies, the file is refused (422) and a new helper is
started for the next upload. Only then does the service read the same footer itself.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import struct
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from matcher_api.errors import UnprocessableError

PROBE_SECONDS = 30.0
_MAGIC = b"PAR1"
_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def footer_file(content: bytes) -> bytes | None:
    """A minimal Parquet file holding only ``content``'s footer (None if it has none)."""
    if len(content) < 12 or content[-4:] != _MAGIC:
        return None
    (length,) = struct.unpack("<I", content[-8:-4])
    if length > len(content) - 12:
        return None
    return _MAGIC + content[-8 - length :]


def _read_every_column_chunk(footer: bytes) -> int:
    """In the helper: read every column chunk's metadata (where pyarrow may abort)."""
    import pyarrow.parquet as pq

    meta = pq.read_metadata(io.BytesIO(footer))
    chunks = 0
    for group in range(meta.num_row_groups):
        row_group = meta.row_group(group)
        for index in range(row_group.num_columns):
            row_group.column(index)
            chunks += 1
    return chunks


def _start_helper(parent: int) -> None:
    """Helper initialiser: end with the service; its dying words (a C++ abort message) go
    nowhere, since the refusal is logged by the service in one line."""
    from matcher_api.jobs import exit_with_parent

    exit_with_parent(parent)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)


def _helper() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_helper,
            initargs=(os.getpid(),),
        )
    return _pool


def warm_up() -> None:
    """Start the helper now (it imports pyarrow: about a second), not on the first upload."""
    with _lock:
        _helper().submit(_read_every_column_chunk, b"")


def shutdown() -> None:
    """Stop the helper process (when the service stops)."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def probe_footer(content: bytes) -> None:
    """Refuse (422) an upload whose footer ends the process that reads it; a footer pyarrow
    merely refuses is left to the service's own checks, which say what is wrong."""
    global _pool
    footer = footer_file(content)
    if footer is None:
        return
    with _lock:  # one footer at a time: each takes milliseconds
        try:
            _helper().submit(_read_every_column_chunk, footer).result(PROBE_SECONDS)
        except (BrokenProcessPool, TimeoutError):
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
            raise UnprocessableError(
                "the hashed file's footer is damaged (reading it failed); hash and upload again",
                reason="damaged_footer",
            ) from None
        except Exception:
            return
