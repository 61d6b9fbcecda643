"""Bearer tokens: 256-bit random secrets, stored only as SHA-256 digests, compared in constant time.

A plain SHA-256 suffices because tokens carry 256 bits of entropy: there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh URL-safe bearer token with 256 random bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The hex SHA-256 digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, digest: str) -> bool:
    """Whether a presented token has the stored digest (constant-time comparison)."""
    return hmac.compare_digest(hash_token(token), digest)
