"""Parsing of option values shared by several commands (one message per kind of mistake)."""

from __future__ import annotations

from datetime import date

from matcher.errors import ConfigError


def parse_day(value: str | None, flag: str) -> date | None:
    """A YYYY-MM-DD option as a date (None when not given); ConfigError names the flag."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag} must be YYYY-MM-DD", reason="date") from None
