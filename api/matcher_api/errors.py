"""HTTP-level errors of the coordinator service, mapped to status codes by one handler.

Library errors (:mod:`matcher.errors`) are mapped in :mod:`matcher_api.main`; these are the
service's own refusals. Messages name what is wrong, never a record value.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base of the service's refusals: a status code, a message and a short reason code."""

    status_code = 400
    reason = "bad_request"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class UnauthorizedError(ApiError):
    """Raised when the bearer token is missing or unknown (401)."""

    status_code = 401
    reason = "unauthorized"


class ForbiddenError(ApiError):
    """Raised when a known token has the wrong role or belongs to another round (403)."""

    status_code = 403
    reason = "forbidden"


class NotFoundError(ApiError):
    """Raised when a round, upload or result does not exist (or was purged) (404)."""

    status_code = 404
    reason = "not_found"


class ConflictError(ApiError):
    """Raised when a request clashes with the round's state or fixed parameters (409)."""

    status_code = 409
    reason = "conflict"


class PayloadTooLargeError(ApiError):
    """Raised when an upload exceeds the configured size limit (413)."""

    status_code = 413
    reason = "too_large"


class UnprocessableError(ApiError):
    """Raised when a request is well-formed but its content cannot be accepted (422)."""

    status_code = 422
    reason = "unprocessable"


class RequestTimeoutError(ApiError):
    """Raised when a client sends its request body too slowly (408)."""

    status_code = 408
    reason = "request_timeout"


class ServiceUnavailableError(ApiError):
    """Raised when the service is too busy or its database cannot be reached right now (503)."""

    status_code = 503
    reason = "unavailable"
