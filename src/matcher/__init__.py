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
    MatcherWarning,
    MissingColumnError,
    OutputExistsError,
)

if TYPE_CHECKING:
    from matcher.disclosure import DisclosurePolicy, build_views
    from matcher.linkage.linkage import LinkageResult, link
    from matcher.reidentify import meeting_list
    from matcher.steward.exports import read_export
    from matcher.steward.hashed_file import HashedFile, read_hashed, write_hashed
    from matcher.steward.hashing import hash_export, hash_records
    from matcher.steward.keys import new_secret, read_key_file, write_key_file
    from matcher.steward.normalise import normalise_export

__version__ = "0.1.0"

#: Public name -> module that defines it (loaded on first access).
_LAZY: dict[str, str] = {
    "DisclosurePolicy": "matcher.disclosure",
    "HashedFile": "matcher.steward.hashed_file",
    "LinkageResult": "matcher.linkage.linkage",
    "hash_export": "matcher.steward.hashing",
    "hash_records": "matcher.steward.hashing",
    "build_views": "matcher.disclosure",
    "link": "matcher.linkage.linkage",
    "meeting_list": "matcher.reidentify",
    "new_secret": "matcher.steward.keys",
    "normalise_export": "matcher.steward.normalise",
    "read_export": "matcher.steward.exports",
    "read_hashed": "matcher.steward.hashed_file",
    "read_key_file": "matcher.steward.keys",
    "write_hashed": "matcher.steward.hashed_file",
    "write_key_file": "matcher.steward.keys",
}

__all__ = [
    "ConfigError",
    "DisclosurePolicy",
    "HashedFile",
    "HashedFileError",
    "InputFileError",
    "KeyFileError",
    "KeyMismatchError",
    "LinkageError",
    "LinkageResult",
    "MatcherError",
    "MatcherWarning",
    "MissingColumnError",
    "OutputExistsError",
    "__version__",
    "build_views",
    "hash_export",
    "hash_records",
    "link",
    "meeting_list",
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
