"""Server-side page sessions: a random cookie id maps to the token digest and a CSRF token.

The raw token is never kept: each request resolves the digest again, so a reissued agency token
or a purged round ends the session at once. Sessions live in memory (a restart signs everyone
out) and expire after ``IDLE_SECONDS`` without use.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

IDLE_SECONDS = 8 * 3600
COOKIE = "matcher_session"
SIGNIN_COOKIE = "matcher_signin"


@dataclass
class WebSession:
    """One signed-in browser: whose token (as its digest) and the token its forms must carry."""

    digest: str
    csrf: str
    last_used: float
    handover: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    """New agency tokens per round, held until the tokens page has shown them once."""


class SessionStore:
    """Page sessions keyed by a 256-bit random id (thread-safe)."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self._idle = idle_seconds
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def open(self, digest: str) -> tuple[str, WebSession]:
        """A new session for a token digest: its cookie id and the session."""
        sid = secrets.token_urlsafe(32)
        session = WebSession(digest, secrets.token_urlsafe(32), time.monotonic())
        with self._lock:
            self._drop_idle()
            self._sessions[sid] = session
        return sid, session

    def get(self, sid: str | None) -> WebSession | None:
        """The live session of a cookie id (None if unknown or idle too long)."""
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            now = time.monotonic()
            if now - session.last_used > self._idle:
                del self._sessions[sid]
                return None
            session.last_used = now
            return session

    def close(self, sid: str | None) -> None:
        """End a session (sign-out)."""
        if sid:
            with self._lock:
                self._sessions.pop(sid, None)

    def _drop_idle(self) -> None:
        """Forget sessions idle too long (called under the lock)."""
        now = time.monotonic()
        for sid in [s for s, v in self._sessions.items() if now - v.last_used > self._idle]:
            del self._sessions[sid]


def csrf_matches(expected: str, presented: str | None) -> bool:
    """Whether a form's CSRF token is the session's (constant-time)."""
    return presented is not None and hmac.compare_digest(expected.encode(), presented.encode())
