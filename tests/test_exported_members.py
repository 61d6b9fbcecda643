"""The public surface of `matcher` is exactly what __all__ lists, and every name resolves."""

from __future__ import annotations

import subprocess
import sys

import matcher


def test_all_names_resolve() -> None:
    for name in matcher.__all__:
        assert getattr(matcher, name) is not None, name


def test_public_surface_is_pinned() -> None:
    assert sorted(matcher.__all__) == sorted(
        [
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
    )


def test_import_is_lazy() -> None:
    code = "import sys, matcher; print('numba' in sys.modules, 'polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
