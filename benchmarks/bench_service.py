"""Benchmark of the coordinator service against the linkage core on the same data, same run.

    python benchmarks/bench_service.py --agencies 5 --records 200000 --json out.json

Builds one synthetic hashed file per agency (children drawn from a shared population: identity
token for most, two name tokens, a birth-date block token and a 1024-bit encoding, with lost
tokens and flipped bits as noise), then:

1. starts the service: uvicorn on 127.0.0.1 (a random free port, SQLite in a temporary
   directory unless ``--database-url``, matching in the service's worker process) and warms it
   up with a tiny round;
2. interleaves ``--repeats`` pairs: one core run (``link`` on the parsed files, in this process),
   then one service round on the same records (create the round, upload every file over
   loopback, match from the request to the job's own ``finished_at``, download every
   agency's view), and ends with one more core run, so that both sides see the same drift in
   the shared machine's load; the client polls the job every 0.25 s (each poll costs the
   server CPU that a 2-core machine takes from the worker) and reads the finish time from it;
3. reports medians: seconds per step, the server's own upload timings (Server-Timing), the
   job's stage timings and what is left (dispatch, status and result writes).

Target: the service (upload + match) adds less than 50 % on top of the core's own time. What
the service adds is measured per round as upload + match less the core's run inside that
round's job (the job times it), median over rounds; the core's own time is the median of the
``link`` runs in this process on the same data. The share against the core time inside the
service's own jobs, and the plain difference of the two medians, are printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import polars as pl

from matcher.linkage.linkage import link, warm_up
from matcher.steward.hashed_file import (
    EncodingParams,
    HashedFile,
    HashedFileHeader,
    read_hashed,
    to_bytes,
)

AGENCIES = ("skola", "socialtjanst", "polis", "fritid", "bup", "elevhalsa", "bib", "vard")
KEY_CHECK = "be4c4be4c4be4c4b"
COORDINATOR_TOKEN = "bench-coordinator-token-0123456789abcdef0123"
BITS = 1024
POLL_SECONDS = 0.25
TARGET = 0.5  # the service may add less than this share on top of the core time


def synthetic_files(agencies: int, records: int, round_id: str, seed: int = 7) -> list[bytes]:
    """One hashed file per agency; children overlap across agencies like real weak-signal lists."""
    return [
        to_bytes(header, frame)
        for header, frame in synthetic_frames(agencies, records, round_id, seed)
    ]


def synthetic_frames(
    agencies: int, records: int, round_id: str, seed: int = 7
) -> list[tuple[HashedFileHeader, pl.DataFrame]]:
    """Header and frame of each agency's synthetic hashed file (see :func:`synthetic_files`)."""
    rng = np.random.default_rng(seed)
    population = records * 10  # each agency flags ~1 in 10 children: ~8 % are on >= 2 lists
    birth = rng.integers(0, 18 * 365, size=population)
    id_tok = rng.integers(1, 2**63, size=population, dtype=np.uint64)
    name_tok = rng.integers(1, 2**63, size=(population, 2), dtype=np.uint64)
    block_of_day = rng.integers(1, 2**63, size=18 * 365, dtype=np.uint64)
    blooms = rng.integers(0, 256, size=(population, BITS // 8), dtype=np.uint8)
    start = date(2026, 1, 1)
    files = []
    for a in range(agencies):
        agency = AGENCIES[a % len(AGENCIES)] + ("" if a < len(AGENCIES) else str(a))
        kids = rng.choice(population, size=records, replace=False)
        ids = id_tok[kids].copy()
        ids_missing = rng.random(records) < 0.15
        names = name_tok[kids].copy()
        lost = rng.random((records, 2)) < 0.1
        names[lost] = rng.integers(1, 2**63, size=int(lost.sum()), dtype=np.uint64)
        bloom = blooms[kids].copy()
        noisy = rng.random(records) < 0.1
        flips = rng.integers(0, BITS // 8, size=(int(noisy.sum()), 3))
        bloom[np.nonzero(noisy)[0][:, None], flips] ^= np.uint8(1)
        days = rng.integers(0, 300, size=records)
        frame = pl.DataFrame(
            {
                "ref": [f"{a:02d}{i:08x}" for i in rng.permutation(records)],
                "agency": [agency] * records,
                "signal": rng.choice(["frånvaro", "oro", "brott", "avstängd"], size=records),
                "signal_date": [start + timedelta(days=int(d)) for d in days],
                "id_token": pl.Series(ids).set(pl.Series(ids_missing), None),
                "name_tokens": pl.Series(names.tolist(), dtype=pl.List(pl.UInt64)),
                "block_tokens": pl.Series(
                    block_of_day[birth[kids]].reshape(-1, 1).tolist(), dtype=pl.List(pl.UInt64)
                ),
                "bloom": [row.tobytes() for row in bloom],
            }
        )
        header = HashedFileHeader(
            round_id=round_id,
            agency=agency,
            key_check=KEY_CHECK,
            row_count=records,
            token_kinds=["pnr", "name_dob"],
            encoding=EncodingParams(bits=BITS),
        )
        files.append((header, frame))
    return files


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """The coordinator service in a uvicorn subprocess (started and stopped by the benchmark)."""

    def __init__(self, data_dir: Path, max_upload: int, database_url: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            MATCHER_DATA_DIR=str(data_dir),
            MATCHER_DATABASE_URL=database_url or f"sqlite:///{data_dir / 'bench.db'}",
            MATCHER_COORDINATOR_TOKEN=COORDINATOR_TOKEN,
            MATCHER_MAX_UPLOAD_BYTES=str(max_upload),
        )
        env.pop("MATCHER_TOKEN", None)
        command = [
            sys.executable, "-m", "uvicorn", "matcher_api.main:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
            "--no-access-log",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, env=env)
        self.http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {COORDINATOR_TOKEN}"},
            timeout=600,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.http.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the service did not start")

    def create_round(self, round_id: str, agencies: list[str]) -> dict[str, str]:
        """Open a round; returns each agency's token."""
        body = {"id": round_id, "name": round_id, "legal_basis": "benchmark", "agencies": agencies}
        response = self.http.post("/rounds", json=body)
        response.raise_for_status()
        return dict(response.json()["agency_tokens"])

    def upload(self, round_id: str, token: str, content: bytes) -> dict[str, float]:
        """PUT one file; returns the server's own timings (seconds) from Server-Timing."""
        response = self.http.put(
            f"/rounds/{round_id}/upload",
            content=content,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/octet-stream",
            },
        )
        response.raise_for_status()
        timings = {}
        for part in response.headers.get("server-timing", "").split(","):
            name, _, duration = part.strip().partition(";dur=")
            if duration:
                timings[name] = float(duration) / 1000
        return timings

    def match(self, round_id: str) -> tuple[dict[str, Any], float, float]:
        """Start matching and poll until it has ended: the job, the seconds from the request to
        the job's own ``finished_at`` and the seconds until the client saw it (polling lag)."""
        started_wall, started = time.time(), time.perf_counter()
        self.http.post(f"/rounds/{round_id}/match").raise_for_status()
        while True:
            job = self.http.get(f"/rounds/{round_id}/match").json()
            if job["status"] in ("done", "failed"):
                seen = time.perf_counter() - started
                if job["status"] == "failed":
                    raise RuntimeError(f"matching failed: {job['error']}")
                finished = datetime.fromisoformat(job["finished_at"]).timestamp()
                return dict(job), finished - started_wall, seen
            # Slow polling on purpose: each poll costs the server CPU that a 2-core machine
            # would take from the match worker; the job's finish time is read from the job.
            time.sleep(POLL_SECONDS)

    def results(self, round_id: str, token: str) -> dict[str, Any]:
        """One agency's result view."""
        response = self.http.get(
            f"/rounds/{round_id}/results/own", headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        return dict(json.loads(response.content))

    def peak_memory_gb(self) -> float:
        """Peak resident memory of the service process plus its match worker (Linux /proc)."""
        total_kb = 0
        pids = [self.process.pid]
        while pids:
            pid = pids.pop()
            proc = Path(f"/proc/{pid}")
            status = (proc / "status").read_text() if proc.exists() else ""
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
            for task in proc.glob("task/*/children"):
                pids += [int(child) for child in task.read_text().split()]
        return total_kb / 1024**2

    def stop(self) -> None:
        """Stop the service process."""
        self.http.close()
        self.process.terminate()
        self.process.wait(30)


def agency_labels(files: list[bytes]) -> list[str]:
    """The agency label of each file."""
    return [read_hashed(f).header.agency for f in files]


def core_run(hashed: list[HashedFile]) -> tuple[float, int]:
    """The core on its own: seconds for one ``link`` run over the parsed files, cases found."""
    t = time.perf_counter()
    result = link(hashed, k=2)
    return time.perf_counter() - t, result.stats.cases


def service_run(
    service: Service, round_id: str, labels: list[str], files: list[bytes], parallel: bool
) -> dict[str, Any]:
    """One round through the service: create, upload every file, match, download every view."""
    figures: dict[str, Any] = {}
    t = time.perf_counter()
    tokens = service.create_round(round_id, labels)
    figures["create_round_s"] = time.perf_counter() - t
    pairs = list(zip(labels, files, strict=True))
    t = time.perf_counter()
    if parallel:
        with ThreadPoolExecutor(len(files)) as pool:
            server = list(pool.map(lambda p: service.upload(round_id, tokens[p[0]], p[1]), pairs))
    else:
        server = [service.upload(round_id, tokens[label], content) for label, content in pairs]
    figures["upload_s"] = time.perf_counter() - t
    job, figures["match_s"], figures["match_seen_by_client_s"] = service.match(round_id)
    t = time.perf_counter()
    for label in labels:
        service.results(round_id, tokens[label])
    figures["results_s"] = time.perf_counter() - t
    figures["upload_plus_match_s"] = figures["upload_s"] + figures["match_s"]
    figures["core_in_job_s"] = job["core_seconds"]
    figures["cases"] = job["case_count"]
    figures["upload_server_s"] = {
        name: sum(timing.get(name, 0.0) for timing in server)
        for name in ("receive", "decode", "validate", "cache", "store", "wait", "commit", "total")
    }
    stages = dict((job.get("stats") or {}).get("service", {}))
    stages.pop("core_s", None)
    figures["match_job_s"] = stages
    figures["match_dispatch_and_writes_s"] = (
        figures["match_s"] - job["core_seconds"] - sum(stages.values())
    )
    return figures


def median_of(runs: list[dict[str, Any]], key: str) -> Any:
    """The median of a figure over runs (per key for a dict of figures)."""
    first = runs[0][key]
    if isinstance(first, dict):
        return {name: statistics.median(run[key][name] for run in runs) for name in first}
    return statistics.median(run[key] for run in runs)


def run(
    agencies: int, records: int, repeats: int, parallel_uploads: bool, database_url: str | None
) -> dict[str, Any]:
    """Every figure: core and service runs interleaved (core, service, core, service, ...)."""
    tag = secrets.token_hex(3)  # round ids unique even in a database kept between runs
    t = time.perf_counter()
    frames = synthetic_frames(agencies, records, f"bench-{tag}-0")
    files = [to_bytes(header, frame) for header, frame in frames]
    prepare_s = time.perf_counter() - t
    labels = agency_labels(files)
    megabytes = sum(len(f) for f in files) / 1e6

    warm_up()
    t = time.perf_counter()
    hashed = [read_hashed(f) for f in files]
    read_s = time.perf_counter() - t

    core_runs: list[float] = []
    service_runs: list[dict[str, Any]] = []
    core_cases = 0
    with tempfile.TemporaryDirectory(prefix="matcher-bench-") as tmp:
        service = Service(Path(tmp), max(len(f) for f in files) * 2, database_url)
        try:
            warm_files = synthetic_files(2, 50, f"warm-up-{tag}", seed=1)
            warm_tokens = service.create_round(f"warm-up-{tag}", agency_labels(warm_files))
            for label, content in zip(agency_labels(warm_files), warm_files, strict=True):
                service.upload(f"warm-up-{tag}", warm_tokens[label], content)
            service.match(f"warm-up-{tag}")  # the worker's first job
            for i in range(repeats):
                seconds, core_cases = core_run(hashed)
                core_runs.append(seconds)
                # Each round needs files hashed for it: same records, header names the round.
                round_files = [
                    to_bytes(header.model_copy(update={"round_id": f"bench-{tag}-{i}"}), frame)
                    for header, frame in frames
                ]
                service_runs.append(
                    service_run(service, f"bench-{tag}-{i}", labels, round_files, parallel_uploads)
                )
                del round_files
            service_peak_gb = service.peak_memory_gb()
        finally:
            service.stop()
    seconds, _ = core_run(hashed)
    core_runs.append(seconds)

    core_s = statistics.median(core_runs)
    service_s = median_of(service_runs, "upload_plus_match_s")
    # The service's own time in each round: upload + match less the core's run inside that job
    # (measured by the job itself), so the core's run-to-run noise does not land on the service.
    outside = statistics.median(r["upload_plus_match_s"] - r["core_in_job_s"] for r in service_runs)
    return {
        "agencies": agencies,
        "records_per_agency": records,
        "upload_megabytes": round(megabytes, 1),
        "repeats": repeats,
        "parallel_uploads": parallel_uploads,
        "database": (database_url or "sqlite").split(":")[0],
        "cases": core_cases,
        "service_cases": service_runs[-1]["cases"],
        "prepare_s": prepare_s,
        "core_read_s": read_s,
        "core_link_s": core_s,
        "core_link_runs_s": core_runs,
        "service_runs": service_runs,
        "service_create_round_s": median_of(service_runs, "create_round_s"),
        "service_upload_s": median_of(service_runs, "upload_s"),
        "service_upload_server_s": median_of(service_runs, "upload_server_s"),
        "service_match_s": median_of(service_runs, "match_s"),
        "service_match_seen_by_client_s": median_of(service_runs, "match_seen_by_client_s"),
        "service_core_in_job_s": median_of(service_runs, "core_in_job_s"),
        "service_match_job_s": median_of(service_runs, "match_job_s"),
        "service_match_dispatch_and_writes_s": median_of(
            service_runs, "match_dispatch_and_writes_s"
        ),
        "service_upload_plus_match_s": service_s,
        "service_results_s": median_of(service_runs, "results_s"),
        "outside_core_s": outside,
        "service_added_over_core": outside / core_s,
        "share_of_service_time_outside_core": outside / service_s,
        "service_minus_core_median_s": service_s - core_s,
        "service_added_over_core_in_job": statistics.median(
            (r["upload_plus_match_s"] - r["core_in_job_s"]) / r["core_in_job_s"]
            for r in service_runs
        ),
        "target_met": outside / core_s < TARGET,
        "service_peak_rss_gb": service_peak_gb,
        "benchmark_peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def main() -> None:
    """Parse arguments, run, print the table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=5)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3, help="service rounds (and core runs)")
    parser.add_argument(
        "--parallel-uploads", action="store_true", help="agencies upload at the same time"
    )
    parser.add_argument(
        "--database-url", default=None, help="an empty database for the service (default SQLite)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    figures = run(
        args.agencies, args.records, args.repeats, args.parallel_uploads, args.database_url
    )
    core = figures["core_link_s"]
    n = args.repeats
    rows = [
        ("core: read_hashed (all files, once)", figures["core_read_s"]),
        (f"core: link (median of {n + 1} runs)", core),
        (f"service (median of {n} rounds): create round", figures["service_create_round_s"]),
        ("service: upload all files", figures["service_upload_s"]),
        *(
            (f"  server: {k} (sum over files)", v)
            for k, v in figures["service_upload_server_s"].items()
        ),
        ("service: match (request to the job's finished_at)", figures["service_match_s"]),
        ("  job: core (link)", figures["service_core_in_job_s"]),
        *((f"  job: {k.removesuffix('_s')}", v) for k, v in figures["service_match_job_s"].items()),
        ("  dispatch, status and result writes", figures["service_match_dispatch_and_writes_s"]),
        ("  (seen by the client, polling every 0.25 s)", figures["service_match_seen_by_client_s"]),
        ("service: upload + match", figures["service_upload_plus_match_s"]),
        ("service: outside the core (median over rounds)", figures["outside_core_s"]),
        ("service: download every agency's results", figures["service_results_s"]),
    ]
    print(
        f"{figures['agencies']} agencies x {figures['records_per_agency']:,} records, "
        f"{figures['upload_megabytes']} MB of hashed files, {figures['cases']:,} cases "
        f"(service: {figures['service_cases']}), uploads "
        f"{'in parallel' if figures['parallel_uploads'] else 'one after another'}"
    )
    print(f"{'step':<52}{'seconds':>10}{'x core':>10}")
    for name, seconds in rows:
        print(f"{name:<52}{seconds:>10.2f}{seconds / core:>10.2f}")
    core_runs = ", ".join(f"{s:.2f}" for s in figures["core_link_runs_s"])
    service_runs = ", ".join(f"{r['upload_plus_match_s']:.2f}" for r in figures["service_runs"])
    in_job = ", ".join(f"{r['core_in_job_s']:.2f}" for r in figures["service_runs"])
    print(f"core link runs: {core_runs} s; service upload + match runs: {service_runs} s")
    print(f"core inside the service's jobs: {in_job} s")
    added = figures["service_added_over_core"]
    print(
        f"VERDICT: the service adds {added:.0%} on top of the core's own time "
        f"({figures['outside_core_s']:.2f} s over {core:.2f} s; target < {TARGET:.0%}: "
        f"{'MET' if figures['target_met'] else 'MISSED'}); "
        f"{figures['share_of_service_time_outside_core']:.0%} of the service's time is outside "
        f"the core; against the core time inside its own jobs: "
        f"{figures['service_added_over_core_in_job']:.0%}; median service time less median "
        f"core time: {figures['service_minus_core_median_s']:.2f} s"
    )
    print(
        f"peak memory: service + worker {figures['service_peak_rss_gb']:.2f} GB, "
        f"this script {figures['benchmark_peak_rss_gb']:.2f} GB"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
