"""The shared secret, its key file, and every key derived from it (HKDF-SHA256, RFC 5869).

Hierarchy::

    secret (32 random bytes, held by the stewards only)
      └─ round key   = HKDF(secret, salt=PROJECT_SALT, info="matcher/v1/round/<round id>")
           ├─ key check value = HMAC(round key, "matcher key check v1")[:8]   (travels with uploads)
           └─ sub-key = HKDF(round key, salt=PROJECT_SALT, info="matcher/v1/purpose/<purpose>")
                (one per token kind, per encoded field, for blocking, for the diffusion layer)

Key file format (UTF-8 text, mode 0600, two lines)::

    matcher-secret-v1
    <64 lower-case hex digits: the 32-byte secret>

Lines starting with ``#`` and blank lines are ignored when reading. The fingerprint is a short
HMAC of a fixed label under the secret, so comparing fingerprints out loud reveals nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from matcher.errors import ConfigError, KeyFileError, OutputExistsError

__all__ = [
    "KEY_FILE_HEADER",
    "PROJECT_SALT",
    "SECRET_BYTES",
    "RoundKeys",
    "derive_round_key",
    "derive_subkey",
    "fingerprint",
    "key_check_value",
    "new_secret",
    "read_key_file",
    "write_key_file",
]

SECRET_BYTES = 32
KEY_FILE_HEADER = "matcher-secret-v1"
#: HKDF salt: a fixed, public project constant (RFC 5869 §3.1: a non-secret salt still helps).
PROJECT_SALT = b"matcher/v1 sspf weak-signal linkage hkdf salt"
_FINGERPRINT_LABEL = b"matcher key fingerprint v1"
_KEY_CHECK_LABEL = b"matcher key check v1"
_MAX_ROUND_ID = 200


def new_secret() -> bytes:
    """A fresh 32-byte shared secret from the operating system's CSPRNG."""
    return secrets.token_bytes(SECRET_BYTES)


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) != SECRET_BYTES:
        raise KeyFileError(f"a secret must be exactly {SECRET_BYTES} bytes", reason="size")


def write_key_file(path: Path | str, secret: bytes) -> None:
    """Write the secret to a new key file with mode 0600, atomically; never overwrite a file."""
    _check_secret(secret)
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise OutputExistsError("key file exists; refusing to overwrite a secret", file=path)
    text = f"{KEY_FILE_HEADER}\n{secret.hex()}\n".encode("ascii")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise KeyFileError("cannot create the key file", file=path, reason="io") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        # link() fails if the target appeared meanwhile, so a secret is never replaced.
        os.link(tmp, path)
    except FileExistsError:
        raise OutputExistsError(
            "key file exists; refusing to overwrite a secret", file=path
        ) from None
    except OSError as exc:
        raise KeyFileError("cannot write the key file", file=path, reason="io") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def read_key_file(path: Path | str) -> bytes:
    """Read a key file; refuse it if unreadable, malformed, the wrong size or readable by others."""
    path = Path(path)
    try:
        info = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError("key file not found", file=path, reason="missing") from None
    except OSError as exc:
        raise KeyFileError("cannot read the key file", file=path, reason="io") from exc
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError("key file is not a regular file", file=path, reason="not_file")
    if os.name == "posix" and info.st_mode & 0o077:
        raise KeyFileError(
            f"key file permissions are {stat.S_IMODE(info.st_mode):04o}; other users can read "
            "it. Run `chmod 600` on it and ask the key custodian whether it leaked",
            file=path,
            reason="permissions",
        )
    if len(raw) > 4096:
        raise KeyFileError("key file is too large to be a matcher key", file=path, reason="format")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise KeyFileError(
            "key file is not a matcher key file", file=path, reason="format"
        ) from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) != 2 or lines[0] != KEY_FILE_HEADER:
        raise KeyFileError(
            f"key file must hold the line {KEY_FILE_HEADER!r} and one line of hex",
            file=path,
            reason="format",
        )
    try:
        secret = bytes.fromhex(lines[1])
    except ValueError:
        raise KeyFileError(
            "key file secret is not hexadecimal", file=path, reason="format"
        ) from None
    if len(secret) != SECRET_BYTES:
        raise KeyFileError(
            f"key file secret has {len(secret)} bytes, expected {SECRET_BYTES}",
            file=path,
            reason="size",
        )
    return secret


def fingerprint(secret: bytes) -> str:
    """A short, human-comparable fingerprint of the secret (e.g. ``3f2a-91c0-7be4-0d51``)."""
    _check_secret(secret)
    digest = hmac.new(secret, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4))


def _hkdf(key: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=PROJECT_SALT, info=info).derive(key)


def _check_label(value: str, what: str) -> None:
    if not value or len(value) > _MAX_ROUND_ID or not value.isprintable():
        raise ConfigError(
            f"{what} must be 1 to {_MAX_ROUND_ID} printable characters", reason=f"bad_{what}"
        )


def derive_round_key(secret: bytes, round_id: str) -> bytes:
    """The round key: HKDF-SHA256(secret, salt=PROJECT_SALT, info="matcher/v1/round/<id>")."""
    _check_secret(secret)
    _check_label(round_id, "round_id")
    return _hkdf(secret, f"matcher/v1/round/{round_id}".encode())


def derive_subkey(round_key: bytes, purpose: str, length: int = 32) -> bytes:
    """A per-purpose sub-key of a round key (info="matcher/v1/purpose/<purpose>")."""
    _check_label(purpose, "purpose")
    if len(round_key) != SECRET_BYTES:
        raise KeyFileError(f"a round key must be {SECRET_BYTES} bytes", reason="size")
    return _hkdf(round_key, f"matcher/v1/purpose/{purpose}".encode(), length)


def key_check_value(round_key: bytes) -> str:
    """Hex of the first 8 bytes of HMAC(round key, "matcher key check v1"); shows a wrong key."""
    return hmac.new(round_key, _KEY_CHECK_LABEL, hashlib.sha256).digest()[:8].hex()


@dataclass(frozen=True)
class RoundKeys:
    """A round's key, its check value and its per-purpose sub-keys (the secret is not kept)."""

    round_id: str
    key_check: str
    _round_key: bytes = field(repr=False)

    @classmethod
    def derive(cls, secret: bytes, round_id: str) -> RoundKeys:
        """Derive the round key and its check value from the shared secret."""
        round_key = derive_round_key(secret, round_id)
        return cls(round_id=round_id, key_check=key_check_value(round_key), _round_key=round_key)

    def subkey(self, purpose: str) -> bytes:
        """The 32-byte sub-key for one purpose (token kind, encoded field, blocking, ...)."""
        return derive_subkey(self._round_key, purpose)

    def sip_key(self, purpose: str) -> tuple[np.uint64, np.uint64]:
        """A 128-bit SipHash key for one purpose, as two little-endian 64-bit words."""
        words = np.frombuffer(self.subkey(purpose)[:16], dtype="<u8")
        return np.uint64(words[0]), np.uint64(words[1])
