"""`matcher round|upload|results` against a real service on loopback (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
import uvicorn
from typer.testing import CliRunner

from matcher.reidentify import MEETING_HEADERS
from matcher_api.main import create_app
from matcher_api.settings import Settings
from matcher_cli.app import app
from tests.api.conftest import database_url, postgres_url  # noqa: F401  (fixtures)
from tests.api.factories import COORDINATOR_TOKEN, hashed_bytes, refs_of

runner = CliRunner()
PEOPLE = {"skola": [1, 2, 3, 4], "socialtjanst": [3, 4, 5], "polis": [4, 6]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    """The coordinator service on a free loopback port, in a thread."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        coordinator_token=COORDINATOR_TOKEN,
        job_executor="thread",
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    service = uvicorn.Server(config)
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not service.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.started
    yield f"http://127.0.0.1:{port}"
    service.should_exit = True
    thread.join(20)


@contextmanager
def _spied_sockets(sent: list[bytes]) -> Iterator[None]:
    """Record every byte sent through a socket in this process (client and service both)."""
    originals = {name: getattr(socket.socket, name) for name in ("send", "sendall")}

    def spy(name: str) -> Callable[..., object]:
        def send(self: socket.socket, data: bytes, *args: object) -> object:
            sent.append(bytes(data))
            return originals[name](self, data, *args)

        return send

    for name in originals:
        setattr(socket.socket, name, spy(name))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(socket.socket, name, original)


def _run(*args: str, token: str | None = None, server: str) -> str:
    env = {"MATCHER_SERVER": server, "MATCHER_TOKEN": token or COORDINATOR_TOKEN}
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_round_upload_match_results(server: str, tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens.json"
    out = _run(
        "round", "create", "--id", "cli-round", "--name", "SSPF test",
        "--legal-basis", "guardians' consent", "--agency", "skola", "--agency", "socialtjanst",
        "--agency", "polis", "--policy", "agencies_and_categories",
        "--tokens-out", str(tokens_file), server=server,
    )  # fmt: skip
    assert "cli-round" in out
    tokens = json.loads(tokens_file.read_text())
    assert tokens_file.stat().st_mode & 0o077 == 0
    record_ids: dict[str, dict[int, str]] = {}
    for agency, people in PEOPLE.items():
        content = hashed_bytes("cli-round", agency, people, signal=f"signal-{agency}")
        hashed = tmp_path / f"{agency}.parquet"
        hashed.write_bytes(content)
        record_ids[agency] = {p: f"ÄR-{agency}-{p}" for p in people}
        pl.DataFrame(
            {
                "ref": refs_of(content),
                "record_id": [record_ids[agency][p] for p in people],
                "row": list(range(2, 2 + len(people))),
            }
        ).write_parquet(tmp_path / f"{agency}.map.parquet")
        out = _run(
            "upload", str(hashed), "--round", "cli-round", token=tokens[agency], server=server
        )
        assert f"uploaded {len(people)} records" in out
    assert "polis" in _run("round", "status", "cli-round", server=server)
    assert "done" in _run("round", "match", "cli-round", server=server)
    assert "cli-round" in _run("round", "list", server=server)
    cases_csv = tmp_path / "cases.csv"
    _run("round", "cases", "cli-round", "--out", str(cases_csv), server=server)
    assert cases_csv.read_text().count("\n") == 1 + 2  # persons 3 and 4

    # skola's export: its people on rows 2.. as in its map, with names only this machine knows
    export = tmp_path / "skola-export.csv"
    export.write_text(
        "Personnummer;Förnamn;Efternamn;Ärende-ID\n"
        + "".join(
            f"2008010{p}-123{p};Hemliganamn{p};Hemligsson;{record_ids['skola'][p]}\n"
            for p in PEOPLE["skola"]
        ),
        encoding="utf-8",
    )
    sent: list[bytes] = []
    for agency, suffix in (("skola", ".csv"), ("polis", ".xlsx")):
        meeting = tmp_path / f"{agency}-meeting{suffix}"
        extra = ["--export", str(export)] if agency == "skola" else []
        with _spied_sockets(sent):
            _run(
                "results", "--round", "cli-round", "--map", str(tmp_path / f"{agency}.map.parquet"),
                "--out", str(meeting), *extra, token=tokens[agency], server=server,
            )  # fmt: skip
        frame = pl.read_csv(meeting) if suffix == ".csv" else pl.read_excel(meeting)
        frame = frame.rename({v: k for k, v in MEETING_HEADERS.items() if v in frame.columns})
        in_cases = {p for p in PEOPLE[agency] if sum(p in v for v in PEOPLE.values()) >= 2}
        assert sorted(frame["record_id"].to_list()) == sorted(
            record_ids[agency][p] for p in in_cases
        )
        assert "other_signals" in frame.columns
        assert frame["case_id"].n_unique() == len(in_cases)
        if agency == "skola":  # the identities reach the local file, and no socket carried them
            assert sorted(frame["name"].to_list()) == [
                f"Hemliganamn{p} Hemligsson" for p in sorted(in_cases)
            ]
    assert sent  # the spy saw the download
    traffic = b"".join(sent)
    for secret in (b"Hemliganamn", b"Hemligsson", b"-123"):
        assert secret not in traffic

    _run("round", "purge", "cli-round", "--yes", server=server)
    gone = runner.invoke(
        app,
        ["round", "status", "cli-round"],
        env={"MATCHER_SERVER": server, "MATCHER_TOKEN": COORDINATOR_TOKEN},
    )
    assert gone.exit_code == 9 and "404" in gone.output


def test_client_errors_are_one_line_messages(server: str, tmp_path: Path) -> None:
    wrong = runner.invoke(app, ["round", "list", "--server", server, "--token", "nope"])
    assert wrong.exit_code == 9 and "401" in wrong.output
    port = _free_port()
    down = runner.invoke(
        app, ["round", "list", "--server", f"http://127.0.0.1:{port}", "--token", "x"]
    )
    assert down.exit_code == 10 and "cannot reach" in down.output
    hashed = tmp_path / "junk.parquet"
    hashed.write_bytes(b"junk")
    bad = runner.invoke(
        app, ["upload", str(hashed), "--round", "r", "--server", server, "--token", "x"]
    )
    assert bad.exit_code != 0 and "cannot read hashed file" in bad.output
    no_token = runner.invoke(app, ["round", "list", "--server", server], env={"MATCHER_TOKEN": ""})
    assert no_token.exit_code != 0 and "token" in no_token.output


def test_serve_shows_a_generated_token_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matcher_api.settings import get_settings

    for name in (
        "MATCHER_COORDINATOR_TOKEN",
        "MATCHER_COORDINATOR_TOKEN_HASH",
        "MATCHER_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MATCHER_DATA_DIR", str(tmp_path))
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append(kwargs))
    get_settings.cache_clear()
    try:
        first = runner.invoke(app, ["serve", "--port", "8123"])
        assert first.exit_code == 0, first.output
        assert "coordinator token" in first.output
        get_settings.cache_clear()
        second = runner.invoke(app, ["serve", "--port", "8123"])
        assert second.exit_code == 0 and "coordinator token" not in second.output
        get_settings.cache_clear()
        monkeypatch.setenv("MATCHER_COORDINATOR_TOKEN", "changethis")
        refused = runner.invoke(app, ["serve"])
        assert refused.exit_code == 2 and "MATCHER_COORDINATOR_TOKEN" in refused.output
    finally:
        get_settings.cache_clear()
    assert [kwargs["port"] for kwargs in started] == [8123, 8123]
    assert (tmp_path / "matcher.db").exists()
