"""matcher's exception tree: every error the library raises on purpose.

    MatcherError
    ├── InputFileError      an agency export cannot be read or lacks what is needed
    │   └── MissingColumnError
    ├── ConfigError         a mapping file, flag or parameter is invalid
    ├── KeyFileError        a secret key file is missing, malformed or unsafe
    ├── HashedFileError     a hashed file is unreadable, of unknown version or inconsistent
    │   └── KeyMismatchError    key check values or encoding parameters differ
    ├── OutputExistsError   an output file exists and overwriting was not asked for
    └── LinkageError        the linkage core was given inputs it cannot link

    MatcherWarning          a problem worked around that the steward must still see (a
                            missing record-id column, row numbers that may be off)

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
    "OutputExistsError",
]


class MatcherError(Exception):
    """Base of every error matcher raises on purpose; front ends map it to exit/status codes."""

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


class MissingColumnError(InputFileError):
    """Raised when a required standard field has no column mapped to it."""


class ConfigError(MatcherError, ValueError):
    """Raised when a column mapping, flag, setting or parameter is invalid."""


class KeyFileError(MatcherError, ValueError):
    """Raised when a secret key file is missing, has the wrong size or unsafe permissions."""


class HashedFileError(MatcherError, ValueError):
    """Raised when a hashed file is unreadable, of an unknown version or internally inconsistent."""


class KeyMismatchError(HashedFileError):
    """Raised when hashed files were made with different keys, rounds or encoding parameters."""


class OutputExistsError(MatcherError, FileExistsError):
    """Raised when an output file exists and the caller did not ask to overwrite it."""


class LinkageError(MatcherError, ValueError):
    """Raised when the linkage core is given inputs it cannot link (shape, dtype, limits)."""


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
