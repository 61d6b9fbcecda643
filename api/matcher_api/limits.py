"""A server-side time limit for every request: past it the client gets a 503, not silence.

Work already handed to a thread cannot be stopped from here; the upload path checks the same
deadline before it commits, so a request answered 503 stores nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("matcher_api")


class TimeLimitMiddleware:
    """Answers 503 to an HTTP request still unanswered after ``seconds`` (ASGI middleware)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request under the limit; answer 503 if it has not started its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, watched), self.seconds)
        except TimeoutError:
            logger.warning("a request exceeded the time limit of %g s", self.seconds)
            if started:
                return  # the response was under way: the connection is closed unfinished
            body = json.dumps(
                {
                    "detail": f"the request took longer than {self.seconds:g} s; try again",
                    "reason": "timeout",
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
