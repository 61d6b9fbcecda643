"""matcher's exception tree: every error the library raises on purpose.

    class                       exit  HTTP  meaning
    MatcherError                  1   422   base: anything matcher refuses on purpose
    ├── InputFileError            3   422   an agency export cannot be read or lacks what is needed
    │   └── MissingColumnError    3   422
    ├── ConfigError               2   422   a mapping file, flag or parameter is invalid
    ├── KeyFileError              4   422   a secret key file is missing, malformed or unsafe
    ├── HashedFileError           6   422   a hashed file is unreadable, of unknown version or
    │   │                                   inconsistent
    │   └── KeyMismatchError      7   409   key check values or encoding parameters differ
    ├── OutputExistsError         5   422   an output file exists and overwriting was not asked for
    ├── LinkageError              8   422   the linkage core was given inputs it cannot link
    ├── ServiceError              9   502   the coordinator service refused a request
    │   └── ServiceUnreachableError 10 502  the coordinator service cannot be reached
    └── MissingExtraError        11   500   an optional install extra (e.g. ``[server]``) is absent

Each class carries its CLI ``exit_code`` and its API ``status_code``, so the front ends read
the code from the error instead of keeping a table of their own (one source of truth;
``tests/test_errors.py`` pins the mapping).

`MatcherWarning` is issued (``warnings.warn``), not raised: a problem worked around that the
steward must still see (no record-id column recognised; xlsx row numbers that may be off).

Errors *locate, never quote*: they carry file, row, column and a reason code,
never the offending cell value, because that value may be a personal identifier.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "HashedFileError",
    "InputFileError",
    "KeyFileError",
    "KeyMismatchError",
    "LinkageError",
    "MatcherError",
    "MatcherWarning",
    "MissingColumnError",
    "MissingExtraError",
    "OutputExistsError",
    "ServiceError",
    "ServiceUnreachableError",
]


class MatcherError(Exception):
    """Base of every error matcher raises on purpose; front ends read its exit/status codes."""

    exit_code: int = 1
    status_code: int = 422

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.reason = reason
        super().__init__(self._located(message))

    def _located(self, message: str) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {Path(self.file).name}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{message} ({', '.join(where)})" if where else message


class InputFileError(MatcherError, ValueError):
    """Raised when an agency export cannot be read at all (encoding, format, structure)."""

    exit_code = 3


class MissingColumnError(InputFileError):
    """Raised when a required standard field has no column mapped to it."""


class ConfigError(MatcherError, ValueError):
    """Raised when a column mapping, flag, setting or parameter is invalid."""

    exit_code = 2


class KeyFileError(MatcherError, ValueError):
    """Raised when a secret key file is missing, has the wrong size or unsafe permissions."""

    exit_code = 4


class HashedFileError(MatcherError, ValueError):
    """Raised when a hashed file is unreadable, of an unknown version or internally inconsistent."""

    exit_code = 6


class KeyMismatchError(HashedFileError):
    """Raised when hashed files were made with different keys, rounds or encoding parameters."""

    exit_code = 7
    status_code = 409


class OutputExistsError(MatcherError, FileExistsError):
    """Raised when an output file exists and the caller did not ask to overwrite it."""

    exit_code = 5


class LinkageError(MatcherError, ValueError):
    """Raised when the linkage core is given inputs it cannot link (shape, dtype, limits)."""

    exit_code = 8


class ServiceError(MatcherError):
    """Raised when the coordinator service refuses a request; ``status`` is its HTTP code."""

    exit_code = 9
    status_code = 502

    def __init__(
        self, message: str, *, status: int | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        self.status = status


class ServiceUnreachableError(ServiceError):
    """Raised when the coordinator service cannot be reached at all (network, DNS, refused)."""

    exit_code = 10


class MissingExtraError(MatcherError):
    """Raised when a command needs an optional install extra (``[server]``, ``[plots]``)."""

    exit_code = 11
    status_code = 500

    def __init__(self, extra: str, *, what: str) -> None:
        super().__init__(
            f"{what} needs the {extra!r} extra: pip install 'sspf-matcher[{extra}]'",
            reason="missing_extra",
        )
        self.extra = extra


class MatcherWarning(UserWarning):
    """Issued (``warnings.warn``) for a problem the library works around but the steward must see;
    located like the errors (file, row, column, reason), never quoting a value."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        reason: str | None = None,
    ) -> None:
        located = MatcherError(message, file=file, row=row, column=column, reason=reason)
        self.file, self.row, self.column, self.reason = file, row, column, reason
        super().__init__(str(located))
