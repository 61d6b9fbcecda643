"""httpx client for the coordinator service, used by ``matcher round|upload|results``.

Server URL and token come from flags or ``MATCHER_SERVER`` / ``MATCHER_TOKEN`` (one small
settings class). Every refusal becomes a :class:`ServiceError` carrying the service's message.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from matcher.errors import ConfigError, ServiceError, ServiceUnreachableError

__all__ = ["ClientSettings", "MatcherClient", "ServiceError", "client_settings"]

UPLOAD_CHUNK = 1 << 20


class ClientSettings(BaseSettings):
    """Where the service is and which token to present (``MATCHER_SERVER``, ``MATCHER_TOKEN``)."""

    model_config = SettingsConfigDict(env_prefix="MATCHER_", extra="ignore")

    server: str = "http://127.0.0.1:8000"
    token: SecretStr | None = None
    timeout: float = 600.0
    #: Send tokens over plain http to non-loopback addresses anyway (MATCHER_ALLOW_INSECURE_HTTP).
    allow_insecure_http: bool = False


def client_settings(server: str | None, token: str | None) -> ClientSettings:
    """Settings from flags, falling back to the environment."""
    given: dict[str, Any] = {"server": server, "token": token}
    return ClientSettings(**{key: value for key, value in given.items() if value})


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address is this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _safe_for_tokens(server: str) -> bool:
    """Whether a token may travel to ``server``: over https, or plain http on loopback only."""
    url = httpx.URL(server)
    return url.scheme == "https" or is_loopback_host(url.host)


class MatcherClient:
    """Thin wrapper over the coordinator API: one method per endpoint the CLI uses."""

    def __init__(self, settings: ClientSettings, *, transport: httpx.BaseTransport | None = None):
        if settings.token is None or not settings.token.get_secret_value().strip():
            raise ConfigError("no token: pass --token or set MATCHER_TOKEN", reason="token")
        if not settings.allow_insecure_http and not _safe_for_tokens(settings.server):
            raise ConfigError(
                "refusing to send a token over plain http to another machine: use an https:// "
                "--server address, or set MATCHER_ALLOW_INSECURE_HTTP=1 if the network is trusted",
                reason="insecure_http",
            )
        self._http = httpx.Client(
            base_url=settings.server.rstrip("/"),
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"},
            timeout=settings.timeout,
            transport=transport,
        )

    def __enter__(self) -> MatcherClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.LocalProtocolError:
            raise ConfigError(
                "the request could not be sent; check the token and --server URL", reason="request"
            ) from None
        except httpx.HTTPError as exc:
            raise ServiceUnreachableError(
                f"cannot reach the coordinator service at {self._http.base_url} "
                f"({type(exc).__name__})",
                reason="unreachable",
            ) from None
        if response.is_success:
            return json.loads(response.content)  # bytes: no charset sniffing on long results
        try:
            body = json.loads(response.content)
            detail, reason = str(body.get("detail")), body.get("reason")
        except ValueError:
            detail, reason = response.reason_phrase, None
        raise ServiceError(
            f"the service refused the request ({response.status_code}): {detail}",
            status=response.status_code,
            reason=reason,
        )

    def create_round(self, body: dict[str, Any]) -> dict[str, Any]:
        """Open a round; the response holds each agency's token, shown once."""
        return dict(self._request("POST", "/rounds", json=body))

    def list_rounds(self) -> list[dict[str, Any]]:
        """Every live round."""
        return list(self._request("GET", "/rounds")["rounds"])

    def round_status(self, round_id: str) -> dict[str, Any]:
        """A round's terms, agencies, uploads and latest job."""
        return dict(self._request("GET", f"/rounds/{round_id}"))

    def start_match(self, round_id: str) -> dict[str, Any]:
        """Start matching; returns the queued job."""
        return dict(self._request("POST", f"/rounds/{round_id}/match"))

    def match_status(self, round_id: str) -> dict[str, Any]:
        """The round's latest job."""
        return dict(self._request("GET", f"/rounds/{round_id}/match"))

    def wait_for_match(self, round_id: str, *, poll: float = 0.5) -> dict[str, Any]:
        """Poll until the round's job has ended (done, failed, or stale: an upload came in)."""
        while True:
            job = self.match_status(round_id)
            if job["status"] in ("done", "failed", "stale"):
                return job
            time.sleep(poll)

    def purge(self, round_id: str) -> dict[str, Any]:
        """Purge a round now."""
        return dict(self._request("DELETE", f"/rounds/{round_id}"))

    def round_results(self, round_id: str) -> dict[str, Any]:
        """The coordinator's case list and suppressed counts."""
        return dict(self._request("GET", f"/rounds/{round_id}/results"))

    def upload(self, round_id: str, path: Path) -> dict[str, Any]:
        """Stream a hashed file to the service (replacing this agency's previous upload)."""
        size = path.stat().st_size

        def chunks() -> Iterator[bytes]:
            """The file in 1 MiB pieces, so it is never held whole in memory."""
            with path.open("rb") as handle:
                while chunk := handle.read(UPLOAD_CHUNK):
                    yield chunk

        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        return dict(
            self._request("PUT", f"/rounds/{round_id}/upload", content=chunks(), headers=headers)
        )

    def own_results(self, round_id: str) -> dict[str, Any]:
        """This agency's view of the round's cases."""
        return dict(self._request("GET", f"/rounds/{round_id}/results/own"))

    def followups(self, round_id: str, *, own: bool = False) -> list[dict[str, Any]]:
        """The round's activity lists: every case (coordinator) or the agency's own (``own``)."""
        suffix = "/own" if own else ""
        return list(self._request("GET", f"/rounds/{round_id}/followup{suffix}")["cases"])

    def put_followup(self, round_id: str, case_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a case's activity list (coordinator)."""
        return dict(self._request("PUT", f"/rounds/{round_id}/followup/{case_id}", json=body))

    def set_action_status(
        self, round_id: str, case_id: str, number: int, status: str
    ) -> dict[str, Any]:
        """Set the status of one of this agency's own actions (1-based number in the case)."""
        path = f"/rounds/{round_id}/followup/own/{case_id}/actions/{number}"
        return dict(self._request("PATCH", path, json={"status": status}))

    def overdue(self, round_id: str) -> list[dict[str, Any]]:
        """Actions past due, neither done nor cancelled (coordinator)."""
        return list(self._request("GET", f"/rounds/{round_id}/followup/overdue")["actions"])

    def action_types(self) -> list[dict[str, str]]:
        """The configured action types (code and label)."""
        return list(self._request("GET", "/followup/action-types")["action_types"])

    def set_action_types(self, types: list[dict[str, str]]) -> list[dict[str, str]]:
        """Replace the configured action types (coordinator)."""
        body = {"action_types": types}
        return list(self._request("PUT", "/followup/action-types", json=body)["action_types"])

    def followup_report(self, rounds: list[str], within_days: int) -> dict[str, Any]:
        """The suppressed follow-up report, the rows of ``rounds`` (coordinator)."""
        params: list[tuple[str, str | int]] = [("rounds", r) for r in rounds]
        params.append(("within_days", within_days))
        return dict(self._request("GET", "/followup/report", params=params))
