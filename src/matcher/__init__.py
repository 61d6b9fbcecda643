"""matcher: privacy-preserving multi-agency linkage of weak-signal lists (SSPF).

The library holds no HTTP, terminal or database code; front ends live in
``matcher_cli`` and ``matcher_api``.
"""

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

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "HashedFileError",
    "InputFileError",
    "KeyFileError",
    "KeyMismatchError",
    "LinkageError",
    "MatcherError",
    "MissingColumnError",
    "OutputExistsError",
    "__version__",
]
