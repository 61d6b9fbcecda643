"""matcher: privacy-preserving multi-agency linkage of weak-signal lists (SSPF).

The library holds no HTTP, terminal or database code; front ends live in
``matcher_cli`` and ``matcher_api``. The pipeline's entry points load lazily, so
``import matcher`` stays cheap (Numba and polars load on first use).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from matcher.errors import (
    ConfigError,
    HashedFileError,
    InputFileError,
    KeyFileError,
    KeyMismatchError,
    LinkageError,
    MatcherError,
    MissingColumnError,
    OutputExistsError,
)

if TYPE_CHECKING:
    from matcher.exports import read_export
    from matcher.hashed_file import HashedFile, read_hashed, write_hashed
    from matcher.hashing import hash_export, hash_records
    from matcher.keys import new_secret, read_key_file, write_key_file
    from matcher.linkage import LinkageResult, link
    from matcher.normalise import normalise_export

__version__ = "0.1.0"

#: Public name -> module that defines it (loaded on first access).
_LAZY: dict[str, str] = {
    "HashedFile": "matcher.hashed_file",
    "LinkageResult": "matcher.linkage",
    "hash_export": "matcher.hashing",
    "hash_records": "matcher.hashing",
    "link": "matcher.linkage",
    "new_secret": "matcher.keys",
    "normalise_export": "matcher.normalise",
    "read_export": "matcher.exports",
    "read_hashed": "matcher.hashed_file",
    "read_key_file": "matcher.keys",
    "write_hashed": "matcher.hashed_file",
    "write_key_file": "matcher.keys",
}

__all__ = [
    "ConfigError",
    "HashedFile",
    "HashedFileError",
    "InputFileError",
    "KeyFileError",
    "KeyMismatchError",
    "LinkageError",
    "LinkageResult",
    "MatcherError",
    "MissingColumnError",
    "OutputExistsError",
    "__version__",
    "hash_export",
    "hash_records",
    "link",
    "new_secret",
    "normalise_export",
    "read_export",
    "read_hashed",
    "read_key_file",
    "write_hashed",
    "write_key_file",
]


def __getattr__(name: str) -> Any:
    """Load a pipeline entry point on first access (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'matcher' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
