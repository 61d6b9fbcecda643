"""The exit and HTTP status codes carried by matcher's error classes, pinned one per class."""

from __future__ import annotations

import pytest

from matcher import errors
from matcher.errors import (
    ConfigError,
    HashedFileError,
    InputFileError,
    KeyFileError,
    KeyMismatchError,
    LinkageError,
    MatcherError,
    MissingColumnError,
    MissingExtraError,
    OutputExistsError,
    ServiceError,
    ServiceUnreachableError,
)

# (class, CLI exit code, API status code): changing a row changes a documented interface.
CODES: list[tuple[type[MatcherError], int, int]] = [
    (MatcherError, 1, 422),
    (ConfigError, 2, 422),
    (InputFileError, 3, 422),
    (MissingColumnError, 3, 422),
    (KeyFileError, 4, 422),
    (OutputExistsError, 5, 422),
    (HashedFileError, 6, 422),
    (KeyMismatchError, 7, 409),
    (LinkageError, 8, 422),
    (ServiceError, 9, 502),
    (ServiceUnreachableError, 10, 502),
    (MissingExtraError, 11, 500),
]


@pytest.mark.parametrize(("cls", "exit_code", "status_code"), CODES)
def test_each_error_class_carries_its_codes(
    cls: type[MatcherError], exit_code: int, status_code: int
) -> None:
    assert (cls.exit_code, cls.status_code) == (exit_code, status_code)


def test_every_exported_error_is_pinned_and_drawn_in_the_tree() -> None:
    exported = {getattr(errors, name) for name in errors.__all__} - {errors.MatcherWarning}
    assert exported == {cls for cls, _, _ in CODES}
    tree = errors.__doc__ or ""
    for cls, exit_code, status_code in CODES:
        line = next(line for line in tree.splitlines() if f" {cls.__name__} " in line)
        assert str(exit_code) in line and str(status_code) in line


def test_distinct_exit_codes_for_distinct_failures() -> None:
    """Wrong key, service refusal and service down are told apart by scripts (not all 1)."""
    leaves = [cls for cls, _, _ in CODES if cls is not MissingColumnError]
    assert len({cls.exit_code for cls in leaves}) == len(leaves)
    assert KeyMismatchError.exit_code != ServiceUnreachableError.exit_code


def test_missing_extra_names_the_install_command() -> None:
    error = MissingExtraError("server", what="matcher serve")
    assert "pip install 'sspf-matcher[server]'" in str(error)
