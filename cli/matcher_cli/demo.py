"""The end-to-end demo: every role of a matching round, played on this machine.

Synthetic agencies export their lists; the key custodian makes the secret; each steward
hashes locally; a coordinator service on loopback (SQLite in the workspace) opens a round,
takes the uploads and matches; each steward downloads its own view and re-identifies it with
its local map; the delivered case lists are then scored against the generator's truth. The
pieces are the library and the HTTP API the real roles use; this module only wires them.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from matcher.errors import ConfigError, MatcherError, OutputExistsError

DEFAULT_AGENCIES = ("skola", "socialtjanst", "polis", "fritid", "bup")
Step = Callable[[str], None]


@dataclass
class StewardReport:
    """What one agency's steward did: counts only (no values)."""

    agency: str
    export: str
    rows_read: int
    rows_hashed: int
    rejected: dict[str, int]
    meeting_list: pl.DataFrame = field(default_factory=pl.DataFrame)


@dataclass
class DemoResult:
    """Everything the demo produced, for printing and for tests."""

    workspace: Path
    kept: bool
    round_id: str
    children: int
    stewards: dict[str, StewardReport]
    coordinator: dict[str, Any]
    job: dict[str, Any]
    evaluation: Any  # matcher.evaluation.evaluation.Evaluation
    timings: dict[str, float]
    service_url: str = ""
    coordinator_token: str = field(default="", repr=False)
    agency_tokens: dict[str, str] = field(default_factory=dict, repr=False)


@contextmanager
def _service(data_dir: Path, token: str) -> Iterator[str]:
    """Run the coordinator service on 127.0.0.1 (a free port) in a thread; yield its URL."""
    import uvicorn

    from matcher_api.main import create_app
    from matcher_api.settings import Settings

    settings = Settings(
        environment="development",
        data_dir=data_dir,
        database_url=f"sqlite:///{(data_dir / 'coordinator.db').as_posix()}",
        coordinator_token=token,
        job_executor="thread",
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="matcher-demo-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError("the demo could not start the coordinator service", reason="serve")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _workspace(keep: Path | None) -> tuple[Path, bool]:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="matcher-demo-")), False
    keep = Path(keep)
    if keep.exists() and any(keep.iterdir()):
        raise OutputExistsError("--keep folder is not empty; choose a new one", file=keep)
    keep.mkdir(parents=True, exist_ok=True)
    return keep, True


def run_demo(
    *,
    children: int = 2000,
    seed: int = 0,
    agencies: tuple[str, ...] = DEFAULT_AGENCIES,
    keep: Path | None = None,
    step: Step | None = None,
    serve: Callable[[DemoResult], None] | None = None,
) -> DemoResult:
    """Play a whole round end to end and return what each role got (see module docstring).

    With ``serve``, the round is not purged and ``serve(result)`` is called while the service
    still runs (it returns when the service may stop), so its pages can be visited.
    """
    from matcher.evaluation.synth import SynthConfig, synthesize
    from matcher.reidentify import meeting_list, read_map
    from matcher.steward.exports import load_mapping
    from matcher.steward.hashing import hash_export
    from matcher.steward.keys import new_secret, read_key_file, write_key_file
    from matcher_cli.client import ClientSettings, MatcherClient

    if not 4 <= len(agencies) <= 6:
        raise ConfigError("the demo runs with 4 to 6 agencies", reason="agencies")
    say = step or (lambda _msg: None)
    timings: dict[str, float] = {}
    workspace, kept = _workspace(keep)
    try:
        t = time.perf_counter()
        say(f"generating {children:,} synthetic children on {len(agencies)} agencies' lists")
        config = SynthConfig(children=children, seed=seed, agencies=agencies)
        exports = workspace / "exports"
        synth = synthesize(config, exports)
        timings["synth_s"] = time.perf_counter() - t

        say("key custodian: creating the shared secret")
        key_path = workspace / "custodian" / "secret.key"
        key_path.parent.mkdir()
        write_key_file(key_path, new_secret())

        round_id = f"demo-{config.reference_date.isoformat()}"
        stewards: dict[str, StewardReport] = {}
        t = time.perf_counter()
        for agency, export in synth.files.items():
            say(f"steward {agency}: hashing {export.name} locally")
            folder = workspace / agency
            folder.mkdir()
            summary = hash_export(
                export,
                secret=read_key_file(key_path),
                round_id=round_id,
                agency=agency,
                out=folder / "hashed.parquet",
                map_path=folder / "local-map.parquet",
                rejects_path=folder / "rejects.csv",
                reference_date=config.reference_date,
                columns=load_mapping(exports / f"{agency}.mapping.toml").columns,
            )
            stewards[agency] = StewardReport(
                agency=agency,
                export=export.name,
                rows_read=summary.rows_read,
                rows_hashed=summary.rows_hashed,
                rejected=dict(summary.rejected),
            )
        timings["hash_s"] = time.perf_counter() - t

        say("coordinator: starting the service on 127.0.0.1 (SQLite)")
        coordinator_token = secrets.token_urlsafe(32)
        service_dir = workspace / "coordinator"
        service_dir.mkdir()
        t = time.perf_counter()
        with _service(service_dir, coordinator_token) as url:
            timings["service_start_s"] = time.perf_counter() - t

            def client(token: str) -> MatcherClient:
                """An API client presenting one role's bearer token."""
                return MatcherClient(ClientSettings(server=url, token=token, timeout=120))

            t = time.perf_counter()
            with client(coordinator_token) as coordinator:
                say(f"coordinator: opening round {round_id}")
                created = coordinator.create_round(
                    {
                        "id": round_id,
                        "name": "SSPF demo round (synthetic data)",
                        "legal_basis": "Demo with synthetic children only; no personal data",
                        "k": 2,
                        "window_from": config.signal_from.isoformat(),
                        "window_to": config.signal_to.isoformat(),
                        "disclosure_policy": "agencies_and_categories",
                        "retention_days": 1,
                        "agencies": list(agencies),
                    }
                )
                tokens: dict[str, str] = created["agency_tokens"]
                for agency in agencies:
                    say(f"steward {agency}: uploading the hashed file")
                    with client(tokens[agency]) as steward:
                        steward.upload(round_id, workspace / agency / "hashed.parquet")
                say("coordinator: matching")
                coordinator.start_match(round_id)
                job = coordinator.wait_for_match(round_id, poll=0.1)
                if job["status"] != "done":
                    raise MatcherError(
                        f"matching failed in the service: {job.get('error')}", reason="match"
                    )
                coordinator_view = coordinator.round_results(round_id)
                for agency in agencies:
                    say(f"steward {agency}: downloading results, re-identifying locally")
                    with client(tokens[agency]) as steward:
                        view = steward.own_results(round_id)
                    local_map = read_map(workspace / agency / "local-map.parquet")
                    listing = meeting_list(view, local_map, view["disclosure_policy"])
                    stewards[agency].meeting_list = listing
                    listing.write_csv(workspace / agency / "meeting-list.csv", include_bom=True)
                if not kept and serve is None:
                    coordinator.purge(round_id)
            timings["round_s"] = time.perf_counter() - t
            result = _score(
                DemoResult(
                    workspace=workspace,
                    kept=kept,
                    round_id=round_id,
                    children=children,
                    stewards=stewards,
                    coordinator=coordinator_view,
                    job=job,
                    evaluation=None,
                    timings=timings,
                    service_url=url,
                    coordinator_token=coordinator_token,
                    agency_tokens=tokens,
                ),
                synth.truth,
                config,
                say,
            )
            if serve is not None:
                serve(result)
        return result
    finally:
        if not kept:
            shutil.rmtree(workspace, ignore_errors=True)


def _score(result: DemoResult, truth_path: Path, config: Any, say: Step) -> DemoResult:
    """The delivered case lists scored against the generator's truth (sets ``evaluation``)."""
    from matcher.evaluation.evaluation import evaluate

    stewards = result.stewards
    say("scoring the delivered case lists against the generator's truth")
    truth = pl.read_parquet(truth_path)
    predicted = pl.concat(
        [
            report.meeting_list.select(
                pl.lit(agency).alias("agency"),
                pl.col("record_id"),
                pl.col("case_id").alias("cluster_id"),
            )
            for agency, report in stewards.items()
        ]
    )
    window: tuple[date, date] = (config.signal_from, config.signal_to)
    result.evaluation = evaluate(predicted, truth, k=2, window=window)
    return result
