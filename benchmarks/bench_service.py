"""Benchmark of the coordinator service against the linkage core on the same data, same run.

    python benchmarks/bench_service.py --agencies 5 --records 200000 --json out.json

Builds one synthetic hashed file per agency (children drawn from a shared population: identity
token for most, two name tokens, a birth-date block token and a 1024-bit encoding, with lost
tokens and flipped bits as noise), then:

1. core: ``read_hashed`` + ``link`` in this process (the baseline: two runs before the service
   and two after, median reported, since the load of a shared machine drifts);
2. service: starts uvicorn on 127.0.0.1 (a random free port, SQLite in a temporary directory,
   matching in the service's worker process), warms it up with a tiny round, then times creating
   a round, uploading every file over loopback, matching (start to done) and downloading the
   results; reports seconds per step, the server's own upload timings (Server-Timing) and the
   job's stage timings.

Target: the service (upload + match) adds less than 50 % on top of the core's own time. The
verdict uses the core time measured inside the service's job (same data, same run, same
moment); the ratios against the baseline runs are printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import polars as pl

from matcher.hashed_file import EncodingParams, HashedFileHeader, read_hashed, to_bytes
from matcher.linkage import link, warm_up

AGENCIES = ("skola", "socialtjanst", "polis", "fritid", "bup", "elevhalsa", "bib", "vard")
KEY_CHECK = "be4c4be4c4be4c4b"
COORDINATOR_TOKEN = "bench-coordinator-token-0123456789abcdef0123"
BITS = 1024


def synthetic_files(agencies: int, records: int, round_id: str, seed: int = 7) -> list[bytes]:
    """One hashed file per agency; children overlap across agencies like real weak-signal lists."""
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
        files.append(to_bytes(header, frame))
    return files


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """The coordinator service in a uvicorn subprocess (started and stopped by the benchmark)."""

    def __init__(self, data_dir: Path, max_upload: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            MATCHER_DATA_DIR=str(data_dir),
            MATCHER_DATABASE_URL=f"sqlite:///{data_dir / 'bench.db'}",
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

    def match(self, round_id: str) -> dict[str, Any]:
        """Start matching and poll until it has ended; returns the job."""
        self.http.post(f"/rounds/{round_id}/match").raise_for_status()
        while True:
            job = self.http.get(f"/rounds/{round_id}/match").json()
            if job["status"] in ("done", "failed"):
                if job["status"] == "failed":
                    raise RuntimeError(f"matching failed: {job['error']}")
                return dict(job)
            time.sleep(0.05)

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


def core_baseline(files: list[bytes], runs: int) -> tuple[float, list[float], int]:
    """The core on its own: seconds to read the files, seconds per ``link`` run, cases found."""
    t = time.perf_counter()
    hashed = [read_hashed(f) for f in files]
    read_s = time.perf_counter() - t
    seconds = []
    cases = 0
    for _ in range(runs):
        t = time.perf_counter()
        result = link(hashed, k=2)
        seconds.append(time.perf_counter() - t)
        cases = result.stats.cases
        del result
    return read_s, seconds, cases


def run(agencies: int, records: int, parallel_uploads: bool) -> dict[str, Any]:
    """Every figure of one run."""
    round_id = "bench-round"
    t = time.perf_counter()
    files = synthetic_files(agencies, records, round_id)
    prepare_s = time.perf_counter() - t
    labels = agency_labels(files)
    megabytes = sum(len(f) for f in files) / 1e6

    warm_up()
    read_s, core_runs, core_cases = core_baseline(files, runs=2)

    with tempfile.TemporaryDirectory(prefix="matcher-bench-") as tmp:
        service = Service(Path(tmp), max_upload=max(len(f) for f in files) * 2)
        try:
            warm_files = synthetic_files(2, 50, "warm-up", seed=1)
            warm_tokens = service.create_round("warm-up", agency_labels(warm_files))
            for label, content in zip(agency_labels(warm_files), warm_files, strict=True):
                service.upload("warm-up", warm_tokens[label], content)
            service.match("warm-up")

            t = time.perf_counter()
            tokens = service.create_round(round_id, labels)
            create_s = time.perf_counter() - t
            t = time.perf_counter()
            if parallel_uploads:
                with ThreadPoolExecutor(len(files)) as pool:
                    server_timings = list(
                        pool.map(
                            lambda pair: service.upload(round_id, tokens[pair[0]], pair[1]),
                            zip(labels, files, strict=True),
                        )
                    )
            else:
                server_timings = [
                    service.upload(round_id, tokens[label], content)
                    for label, content in zip(labels, files, strict=True)
                ]
            upload_s = time.perf_counter() - t
            t = time.perf_counter()
            job = service.match(round_id)
            match_s = time.perf_counter() - t
            t = time.perf_counter()
            for label in labels:
                service.results(round_id, tokens[label])
            results_s = time.perf_counter() - t
            service_peak_gb = service.peak_memory_gb()
        finally:
            service.stop()
    # Two more baseline runs after the service's: the shared machine's load drifts.
    core_runs += core_baseline(files, runs=2)[1]
    core_s = statistics.median(core_runs)

    service_s = upload_s + match_s
    upload_parts = {
        name: sum(t.get(name, 0.0) for t in server_timings)
        for name in ("receive", "validate", "store")
    }
    job_parts = (job.get("stats") or {}).get("service", {})
    outside = service_s - core_s
    return {
        "agencies": agencies,
        "records_per_agency": records,
        "upload_megabytes": round(megabytes, 1),
        "cases": core_cases,
        "service_cases": job["case_count"],
        "prepare_s": prepare_s,
        "core_read_s": read_s,
        "core_link_s": core_s,
        "core_link_runs_s": core_runs,
        "service_create_round_s": create_s,
        "service_upload_s": upload_s,
        "service_match_s": match_s,
        "service_core_in_job_s": job.get("core_seconds"),
        "service_results_s": results_s,
        "service_upload_plus_match_s": service_s,
        "outside_core_s": outside,
        "service_added_over_core": outside / core_s,
        "service_added_over_core_read_and_link": (service_s - core_s - read_s) / (core_s + read_s),
        "service_added_over_core_in_job": (service_s - job["core_seconds"]) / job["core_seconds"],
        "share_of_service_time_outside_core": (service_s - job["core_seconds"]) / service_s,
        "parallel_uploads": parallel_uploads,
        "service_peak_rss_gb": service_peak_gb,
        "benchmark_peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "upload_server_s": upload_parts,
        "match_job_s": job_parts,
    }


def main() -> None:
    """Parse arguments, run, print the table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=5)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument(
        "--parallel-uploads", action="store_true", help="agencies upload at the same time"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    figures = run(args.agencies, args.records, args.parallel_uploads)
    core = figures["core_link_s"]
    rows = [
        ("core: read_hashed (all files)", figures["core_read_s"]),
        ("core: link (baseline, median of 4 runs)", core),
        ("service: create round", figures["service_create_round_s"]),
        ("service: upload all files", figures["service_upload_s"]),
        *((f"  server: {k} (sum over files)", v) for k, v in figures["upload_server_s"].items()),
        ("service: match (start to done)", figures["service_match_s"]),
        *((f"  job: {k.removesuffix('_s')}", v) for k, v in figures["match_job_s"].items()),
        ("service: upload + match", figures["service_upload_plus_match_s"]),
        ("service: download every agency's results", figures["service_results_s"]),
    ]
    print(
        f"{figures['agencies']} agencies x {figures['records_per_agency']:,} records, "
        f"{figures['upload_megabytes']} MB of hashed files, {figures['cases']:,} cases "
        f"(service: {figures['service_cases']})"
    )
    print(f"{'step':<44}{'seconds':>10}{'x core':>10}")
    for name, seconds in rows:
        print(f"{name:<44}{seconds:>10.2f}{seconds / core:>10.2f}")
    runs = ", ".join(f"{s:.2f}" for s in figures["core_link_runs_s"])
    in_job = figures["service_added_over_core_in_job"]
    print(
        f"core link runs here: {runs} s; "
        f"in the service's job: {figures['service_core_in_job_s']:.2f} s"
    )
    print(
        f"service adds {in_job:.0%} on top of the core time of its own job "
        f"({'meets' if in_job < 0.5 else 'misses'} the < 50 % target; "
        f"{figures['share_of_service_time_outside_core']:.0%} of the service's time is outside "
        f"the core); against the baseline median: {figures['service_added_over_core']:.0%}, "
        f"against read_hashed + link: {figures['service_added_over_core_read_and_link']:.0%}"
    )
    print(
        f"peak memory: service + worker {figures['service_peak_rss_gb']:.2f} GB, "
        f"this script {figures['benchmark_peak_rss_gb']:.2f} GB"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
