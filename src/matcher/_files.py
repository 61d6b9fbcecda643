"""Atomic file output: write beside the target, then rename, so a reader never sees half a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def stage(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write`` on a temporary sibling of ``path`` and return it, for `commit` later.

    On failure the temporary file is removed; ``path`` itself is never touched here.
    """
    tmp = path.with_name(f".{path.name}.partial")
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def commit(tmp: Path, path: Path) -> None:
    """Rename a staged file into place (atomic on one file system); remove it if that fails."""
    try:
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temporary sibling of ``path``, then rename it into place.

    On any failure the temporary file is removed and an existing ``path`` is left untouched.
    """
    commit(stage(path, write), path)
