"""Which optional install extras are present, so a missing one is a clear error, not a traceback.

The base package is what a data steward needs (``pip install sspf-matcher``: hash, inspect, link,
upload, results); the coordinator service and plots come with ``[server]`` and ``[plots]``.
Commands that need one call :func:`require_extra` before importing from it.
"""

from __future__ import annotations

from importlib.util import find_spec

from matcher.errors import MissingExtraError

__all__ = ["EXTRAS", "require_extra"]

#: The top-level modules each extra installs (a representative few; all must be importable).
EXTRAS: dict[str, tuple[str, ...]] = {
    "server": ("fastapi", "uvicorn", "sqlalchemy", "alembic", "multipart"),
    "plots": ("matplotlib",),
}


def require_extra(extra: str, *, what: str) -> None:
    """Raise :class:`MissingExtraError` naming the pip command unless ``extra`` is installed."""
    if any(find_spec(module) is None for module in EXTRAS[extra]):
        raise MissingExtraError(extra, what=what)
