"""Coordinator service settings: one pydantic-settings class read from MATCHER_* variables.

Built only through :func:`get_settings` (cached) or explicitly by tests and the CLI, never at
import time, so importing the service has no side effects.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"changethis", "changeme", "secret", "password", "token"})
MIN_TOKEN_LENGTH = 32


class Settings(BaseSettings):
    """Everything the coordinator service can be configured with (prefix ``MATCHER_``)."""

    model_config = SettingsConfigDict(env_prefix="MATCHER_", extra="ignore", frozen=True)

    environment: Literal["development", "production"] = Field(
        "production", description="development relaxes the placeholder-secret check"
    )
    data_dir: Path = Field(
        Path("matcher-data"),
        description="where the default SQLite file and the upload cache (parsed uploads) live",
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file in data_dir"
    )
    coordinator_token: SecretStr | None = Field(
        None, description="coordinator bearer token; if unset, one is generated on first start"
    )
    coordinator_token_hash: str | None = Field(
        None, description="hex SHA-256 of the coordinator token (instead of the token itself)"
    )
    max_upload_bytes: int = Field(512 * 1024 * 1024, ge=1024, description="upload size limit")
    default_retention_days: int = Field(30, ge=1, le=3650)
    max_retention_days: int = Field(365, ge=1, le=3650)
    small_count_threshold: int = Field(5, ge=1, le=100, description="counts below are shown as <N")
    purge_interval_seconds: float = Field(600.0, gt=0, description="how often expiry is checked")
    job_executor: Literal["process", "thread"] = Field(
        "process", description="where matching runs: a separate process (default) or a thread"
    )
    # Limits that keep one upload, one slow client or one bad file from taking the service down.
    max_upload_rows: int = Field(
        10_000_000, ge=1, description="most rows one hashed file may hold (read from its footer)"
    )
    max_decoded_bytes: int = Field(
        2 * 1024**3,
        ge=1024,
        description="most memory one upload may decode to (estimated from its footer first)",
    )
    max_decode_ratio: float = Field(
        64.0, ge=1.0, description="most decoded bytes per byte of upload (decompression bombs)"
    )
    max_concurrent_uploads: int = Field(
        4, ge=1, description="uploads decoded and checked at once; more wait, then get 503"
    )
    upload_queue_seconds: float = Field(
        30.0, gt=0, description="how long an upload waits for a free slot before a 503"
    )
    body_read_timeout_seconds: float = Field(
        30.0, gt=0, description="longest pause between two parts of a request body"
    )
    request_timeout_seconds: float = Field(
        600.0, gt=0, description="server-side time limit of any request (503 when exceeded)"
    )
    db_pool_size: int = Field(5, ge=1, description="database connections kept open")
    db_max_overflow: int = Field(10, ge=0, description="extra connections under load")
    db_pool_timeout_seconds: float = Field(
        10.0, gt=0, description="wait for a free database connection before a 503"
    )

    @field_validator("coordinator_token_hash")
    @classmethod
    def _hex_sha256(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-f]{64}", value.lower()):
            raise ValueError("coordinator_token_hash must be 64 hex digits (SHA-256)")
        return None if value is None else value.lower()

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        token = self.coordinator_token
        if token is not None and self.environment != "development":
            plain = token.get_secret_value()
            if plain.lower() in PLACEHOLDER_SECRETS or len(plain) < MIN_TOKEN_LENGTH:
                raise ValueError(
                    "MATCHER_COORDINATOR_TOKEN is a placeholder or shorter than "
                    f"{MIN_TOKEN_LENGTH} characters; set a long random token or leave it unset"
                )
        return self

    @property
    def upload_cache_dir(self) -> Path:
        """Where parsed copies of the uploads are kept for matching (see ``cache.py``)."""
        return self.data_dir / "upload-cache"

    @property
    def resolved_database_url(self) -> str:
        """The database URL with the psycopg driver made explicit; SQLite in data_dir if unset."""
        url = self.database_url
        if not url:
            return f"sqlite:///{(self.data_dir / 'matcher.db').as_posix()}"
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url


@lru_cache
def get_settings() -> Settings:
    """The service settings from the environment, built once on first use."""
    return Settings()
