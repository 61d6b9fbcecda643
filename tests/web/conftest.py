"""Fixtures for the page tests: a page driver over TestClient (SQLite and PostgreSQL), a live
service in a thread, and Debian's Chromium through Playwright (required when CI is set)."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher_api.main import create_app
from matcher_api.settings import Settings
from tests.api.conftest import (  # noqa: F401  (fixtures shared with the API tests)
    clock,
    database_url,
    make_settings,
    postgres_url,
)
from tests.api.factories import COORDINATOR_TOKEN, KEY_CHECK, Clock, hashed_bytes

CHROMIUM = os.environ.get("MATCHER_CHROMIUM", "/usr/bin/chromium")  # tests may point elsewhere
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WRONG_KEY_CHECK = "badbadbadbadbad0"
DEMO_AGENCIES = ("skola", "socialtjanst", "polis")

# Who each agency flagged (same number = same child): combinations of 12 and 7 cases, and two
# of 3 that the coordinator must see as "<5".
_PEOPLE = {
    "skola": [*range(0, 18), *range(200, 240)],
    "socialtjanst": [*range(0, 15), *range(100, 107), *range(300, 331)],
    "polis": [0, 1, 2, 15, 16, 17, *range(100, 107), *range(400, 421)],
}


def demo_files(round_id: str) -> dict[str, bytes]:
    """A demo-like hashed file per agency for ``round_id`` (synthetic tokens, random refs)."""
    signals = {"skola": "frånvaro", "socialtjanst": "orosanmälan", "polis": "ringa brott"}
    return {
        agency: hashed_bytes(round_id, agency, people, signal=signals[agency])
        for agency, people in _PEOPLE.items()
    }


def wrong_key_file(round_id: str, agency: str) -> bytes:
    """A valid hashed file made with another key than the round's."""
    return hashed_bytes(round_id, agency, _PEOPLE[agency], key_check=WRONG_KEY_CHECK)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Pages:
    """A browser-less driver of the pages: signs in and posts forms with their CSRF token."""

    client: TestClient

    def csrf(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.text
        match = CSRF.search(response.text)
        assert match is not None
        return match.group(1)

    def sign_in(self, token: str) -> Any:
        return self.client.post(
            "/web/signin", data={"csrf": self.csrf("/web/signin"), "token": token}
        )

    def create_round(
        self, round_id: str, agencies: tuple[str, ...] = DEMO_AGENCIES
    ) -> dict[str, str]:
        """Create a round through the form; returns the tokens shown once."""
        form = {
            "csrf": self.csrf("/web/rounds/new"),
            "id": round_id,
            "name": "SSPF demo",
            "legal_basis": "Vårdnadshavares samtycke",
            "agencies": ", ".join(agencies),
            "k": "2",
            "retention_days": "30",
            "disclosure_policy": "agencies_only",
        }
        response = self.client.post("/web/rounds/new", data=form)
        assert response.status_code == 200, response.text
        return dict(re.findall(r'data-agency="([^"]+)">([^<]+)</code>', response.text))

    def upload(self, round_id: str, content: bytes) -> Any:
        csrf = self.csrf(f"/web/agency/rounds/{round_id}")
        return self.client.post(
            f"/web/agency/rounds/{round_id}/upload",
            data={"csrf": csrf},
            files={"file": ("hashed.parquet", content, "application/octet-stream")},
        )


@pytest.fixture
def make_pages(
    make_settings: Callable[..., Settings],  # noqa: F811  (the API tests' fixture)
    clock: Clock,  # noqa: F811
) -> Iterator[Callable[[], Pages]]:
    """Browser-less page drivers on one app (each its own cookie jar)."""
    app = create_app(make_settings(), clock=clock)
    clients: list[TestClient] = []

    def start() -> Pages:
        client = TestClient(app, raise_server_exceptions=False, follow_redirects=True)
        client.__enter__()
        clients.append(client)
        return Pages(client)

    yield start
    for client in clients:
        client.__exit__(None, None, None)
    app.state.services.engine.dispose()


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[str]:
    """The service on 127.0.0.1 (free port) in a thread, on SQLite; yields its base URL."""
    import uvicorn

    settings = Settings(
        database_url=f"sqlite:///{(tmp_path / 'matcher.db').as_posix()}",
        data_dir=tmp_path,
        coordinator_token=COORDINATOR_TOKEN,
        job_executor="thread",
    )
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "service did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    app.state.services.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's package) via Playwright; a missing browser fails the tests
    when CI or MATCHER_REQUIRE_BROWSER is set (.ci/run sets it) and skips them otherwise."""
    missing = [] if shutil.which(CHROMIUM) or Path(CHROMIUM).exists() else [CHROMIUM]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright (pip)")
    if missing:
        message = f"browser tests need {', '.join(missing)} (apt-get install chromium)"
        if os.environ.get("CI") or os.environ.get("MATCHER_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the browser tests save page screenshots: MATCHER_SCREENSHOTS, else a temp folder."""
    target = Path(os.environ.get("MATCHER_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target


__all__ = ["COORDINATOR_TOKEN", "KEY_CHECK"]
