"""Parsed uploads kept beside the database, so matching does not decode every file again.

When an upload passes validation, its frame is also written here as an uncompressed Arrow IPC
file named by the upload row's random ``cache_key``. The match worker memory-maps it (no
decoding, no copy) instead of reading the Parquet bytes back from the database and decoding
them. The database stays the only source of truth: a missing or unreadable cache file just
means the worker decodes the stored upload as before. Replacing or purging an upload removes
its file; files no upload row names (a crash, a removal that failed) are removed when the
service starts and periodically, once they are older than a grace period.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

import polars as pl
import pyarrow as pa

logger = logging.getLogger("matcher_api.cache")

KEY_PATTERN = re.compile(r"[0-9a-f]{32}")
SUFFIX = ".arrow"
PRUNE_GRACE = 120.0  # seconds: a copy written for an upload whose commit is under way is kept
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


def new_key() -> str:
    """A fresh cache key for a new upload row (random: never reused for other content)."""
    return secrets.token_hex(16)


def shred(path: Path) -> None:
    """Overwrite a file with zeros (flushed to disk), then delete it: a removed copy leaves no
    refs, tokens or encodings readable in the file's old blocks through this file system (on
    copy-on-write or journalling storage the README recommends encrypted storage instead)."""
    with contextlib.suppress(OSError), path.open("r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(0)
        zeros = bytes(min(size, 1 << 20))
        while size > 0:
            size -= handle.write(zeros[: min(size, len(zeros))])
        handle.flush()
        os.fsync(handle.fileno())
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


class UploadCache:
    """A directory of parsed uploads, one Arrow IPC file per cache key."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        """The file of a key (keys are 32 hex digits; anything else is refused)."""
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError("not a cache key")
        return self.directory / f"{key}{SUFFIX}"

    def write(self, key: str, frame: pl.DataFrame) -> bool:
        """Store a validated upload's frame (temp file + rename); False if it could not be
        written (the upload is still stored in the database and decoded from there)."""
        target = self.path(key)
        partial = target.with_suffix(".partial")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # View types (string_view, binary_view) are polars' own layout: read back without
            # a conversion or a copy.
            table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
            with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
                w.write_table(table)
            os.replace(partial, target)
        except (OSError, pa.ArrowException) as exc:  # the upload is stored all the same
            logger.warning("could not cache a parsed upload (%s)", type(exc).__name__)
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            return False
        return True

    def read(self, key: str | None) -> pl.DataFrame | None:
        """The cached frame of a key, memory-mapped; None if absent or unreadable.

        The mapping is populated at once (MAP_POPULATE: its pages come from the page cache
        here, not on first touch), so that loading costs what it costs where it happens.
        """
        if key is None or not KEY_PATTERN.fullmatch(key):
            return None
        try:
            with self.path(key).open("rb") as file:
                mapped = mmap.mmap(file.fileno(), 0, flags=_MAP_FLAGS, prot=mmap.PROT_READ)
            table = pa.ipc.open_file(pa.py_buffer(mapped)).read_all()
        except (OSError, ValueError, pa.ArrowException):
            return None
        frame = pl.from_arrow(table)
        return frame if isinstance(frame, pl.DataFrame) else None

    def remove(self, keys: Iterable[str | None]) -> None:
        """Overwrite and delete the files of these keys (those that exist)."""
        for key in keys:
            if key is not None and KEY_PATTERN.fullmatch(key):
                shred(self.path(key))

    def prune(self, keep: Iterable[str | None], *, grace_seconds: float = PRUNE_GRACE) -> int:
        """Delete every file whose key is not in ``keep`` (left by a crash or a removal that
        failed) and that is older than ``grace_seconds`` (younger ones may belong to an upload
        that is being committed right now); returns how many were deleted."""
        wanted = {f"{key}{SUFFIX}" for key in keep if key is not None}
        cutoff = time.time() - grace_seconds
        removed = 0
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.directory):
                if entry.name in wanted or not entry.name.endswith((SUFFIX, ".partial")):
                    continue
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < cutoff:
                        shred(Path(entry.path))
                        removed += 1
        return removed
