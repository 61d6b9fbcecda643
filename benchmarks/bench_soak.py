"""Soak of the coordinator service: many rounds back to back against one `matcher serve` process.

    python benchmarks/bench_soak.py --rounds 10 --agencies 6 --records 5000 --json soak.json
    python benchmarks/bench_soak.py --rounds 50 --agencies 6 --records 20000   # issue 13's size

Starts `matcher serve` on loopback (SQLite in a temporary folder unless ``--database-url``;
matching in its worker process; expired rounds purged every second in the background, and a
client thread asks for a purge of expired rounds every second as well), then runs each round:
create it, upload every agency's synthetic hashed file in parallel (httpx), match and poll,
download every agency's view and the coordinator's case list, purge. A sampler reads the
resident memory of the service and its worker every half second.

Reports throughput (records and rounds per minute of soak), p50 and p99 latency per route, the
memory after each round with its slope (least squares over rounds 2..N: it must not grow), and
errors (any unexpected status or transport error: must be zero). The baseline is the soak's own
first half (after round 1, which warms up): each route's p50 in the second half is printed as a
ratio against it, so a service that slows down as rounds pile up shows a ratio above 1; the
memory of the last round is printed as a ratio against round 2's. Exits 1 on any error.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from bench_service import COORDINATOR_TOKEN, free_port, synthetic_files

POLL_SECONDS = 0.25
SAMPLE_SECONDS = 0.5


class Soak:
    """One `matcher serve` process and the latencies, errors and memory samples of a soak."""

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        port = free_port()
        env = {
            **os.environ,
            "MATCHER_DATA_DIR": str(data_dir),
            "MATCHER_DATABASE_URL": database_url or f"sqlite:///{data_dir / 'soak.db'}",
            "MATCHER_COORDINATOR_TOKEN": COORDINATOR_TOKEN,
            "MATCHER_PURGE_INTERVAL_SECONDS": "1",
            "MATCHER_MAX_UPLOAD_BYTES": str(1 << 30),
        }
        command = [sys.executable, "-m", "matcher_cli", "serve", "--host", "127.0.0.1"]
        self.log = (data_dir / "service.log").open("wb")
        self.process = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
        self.latencies: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.errors: list[str] = []
        self.memory: list[tuple[float, float]] = []  # (seconds since start, MB)
        self.round = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self.http.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the service did not start")

    def call(
        self, route: str, method: str, path: str, token: str, expect: int = 200, **kw: Any
    ) -> httpx.Response | None:
        """One timed request; an unexpected status or a transport error counts as an error."""
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        started = time.perf_counter()
        try:
            response = self.http.request(method, path, headers=headers, **kw)
        except httpx.TransportError as exc:
            with self._lock:
                self.errors.append(f"{route}: {type(exc).__name__}")
            return None
        seconds = time.perf_counter() - started
        with self._lock:
            self.latencies[route].append((self.round, seconds))
            if response.status_code != expect:
                self.errors.append(f"{route}: {response.status_code} {response.text[:200]}")
        return response

    def rss_mb(self) -> float:
        """Resident memory of the service and its children (the match worker), MB."""
        return sum(self.rss_parts_mb())

    def rss_parts_mb(self) -> tuple[float, float]:
        """Resident memory of the service process itself and of its children, MB."""
        parts, pids = [0, 0], [self.process.pid]
        while pids:
            pid = pids.pop()
            proc = Path(f"/proc/{pid}")
            try:
                for line in (proc / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        parts[pid != self.process.pid] += int(line.split()[1])
                for task in proc.glob("task/*/children"):
                    pids += [int(child) for child in task.read_text().split()]
            except OSError:
                continue
        return parts[0] / 1024, parts[1] / 1024

    def background(self) -> list[threading.Thread]:
        """Start the memory sampler and the client that asks for expiry every second."""
        started = time.monotonic()

        def sample() -> None:
            while not self._stop.wait(SAMPLE_SECONDS):
                self.memory.append((time.monotonic() - started, self.rss_mb()))

        def expire() -> None:
            while not self._stop.wait(1.0):
                self.call(
                    "POST /admin/purge-expired", "POST", "/admin/purge-expired", COORDINATOR_TOKEN
                )

        threads = [threading.Thread(target=sample), threading.Thread(target=expire)]
        for thread in threads:
            thread.start()
        return threads

    def stop(self, threads: list[threading.Thread]) -> None:
        """Stop the background threads and the service."""
        self._stop.set()
        for thread in threads:
            thread.join(30)
        self.http.close()
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


def one_round(soak: Soak, number: int, files: list[bytes], labels: list[str]) -> None:
    """Create, upload in parallel, match, download every view, purge."""
    soak.round = number
    round_id = f"soak-{number:03d}"
    coordinator = COORDINATOR_TOKEN
    body = {"id": round_id, "name": round_id, "legal_basis": "soak", "agencies": labels}
    created = soak.call("POST /rounds", "POST", "/rounds", coordinator, 201, json=body)
    if created is None or created.status_code != 201:
        return
    tokens = created.json()["agency_tokens"]
    octets = {"Content-Type": "application/octet-stream"}

    def upload(pair: tuple[str, bytes]) -> None:
        label, content = pair
        path = f"/rounds/{round_id}/upload"
        soak.call("PUT upload", "PUT", path, tokens[label], content=content, headers=octets)

    with ThreadPoolExecutor(len(files)) as pool:
        list(pool.map(upload, zip(labels, files, strict=True)))
    match = f"/rounds/{round_id}/match"
    if soak.call("POST match", "POST", match, coordinator, 202) is not None:
        started = time.perf_counter()
        while True:
            polled = soak.call("GET match", "GET", match, coordinator)
            status = polled.json().get("status") if polled is not None else "error"
            if status not in ("queued", "running"):
                break
            time.sleep(POLL_SECONDS)
        soak.latencies["match (to done)"].append((number, time.perf_counter() - started))
        if status != "done":
            soak.errors.append(f"match: {status}")

    def download(label: str) -> None:
        own = f"/rounds/{round_id}/results/own"
        soak.call("GET results/own", "GET", own, tokens[label])

    with ThreadPoolExecutor(len(labels)) as pool:
        list(pool.map(download, labels))
    soak.call("GET results", "GET", f"/rounds/{round_id}/results", coordinator)
    soak.call("DELETE round", "DELETE", f"/rounds/{round_id}", coordinator)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 for fewer than two points)."""
    if len(points) < 2:
        return 0.0
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / spread if spread else 0.0


def run(rounds: int, agencies: int, records: int, database_url: str | None) -> dict[str, Any]:
    """The soak: every figure of the report."""
    with tempfile.TemporaryDirectory(prefix="matcher-soak-") as tmp:
        soak = Soak(Path(tmp), database_url)
        threads = soak.background()
        per_round_mb: list[tuple[float, float]] = []
        parts: list[tuple[float, float]] = []
        busy = 0.0
        try:
            for number in range(1, rounds + 1):
                files = synthetic_files(agencies, records, f"soak-{number:03d}", seed=number)
                labels = [label_of(content) for content in files]
                started = time.perf_counter()
                one_round(soak, number, files, labels)
                busy += time.perf_counter() - started
                parts.append(soak.rss_parts_mb())
                per_round_mb.append((float(number), sum(parts[-1])))
                print(f"round {number}/{rounds}: {busy:.1f} s, {per_round_mb[-1][1]:.0f} MB")
        finally:
            soak.stop(threads)
    half = rounds / 2
    routes = {}
    for route, timed in sorted(soak.latencies.items()):
        seconds = [s for _, s in timed]
        early = [s for n, s in timed if 1 < n <= half] or seconds  # round 1 warms up
        late = [s for n, s in timed if n > half] or seconds
        routes[route] = {
            "count": len(seconds),
            "p50_ms": 1000 * percentile(seconds, 0.5),
            "p99_ms": 1000 * percentile(seconds, 0.99),
            "late_vs_early_p50": percentile(late, 0.5) / percentile(early, 0.5),
        }
    growth = slope(per_round_mb[1:])
    second = per_round_mb[min(1, len(per_round_mb) - 1)][1]
    return {
        "rounds": rounds,
        "agencies": agencies,
        "records_per_agency": records,
        "soak_seconds": busy,
        "rounds_per_minute": 60 * rounds / busy,
        "records_per_second": rounds * agencies * records / busy,
        "routes": routes,
        "rss_mb_after_round": [mb for _, mb in per_round_mb],
        "rss_mb_after_round_service_worker": parts,
        "rss_mb_max": max((mb for _, mb in soak.memory), default=0.0),
        "rss_slope_mb_per_round": growth,
        "rss_slope_mb_per_round_second_half": slope(per_round_mb[len(per_round_mb) // 2 :]),
        "rss_last_vs_round_2": per_round_mb[-1][1] / second if second else 0.0,
        "rss_samples": soak.memory,
        "errors": soak.errors,
    }


def label_of(content: bytes) -> str:
    """The agency label in a hashed file's header."""
    from matcher.steward.hashed_file import read_header

    return read_header(content).agency


def report(figures: dict[str, Any], out: Callable[[str], object] = print) -> None:
    """The printed table."""
    out(
        f"\n{figures['rounds']} rounds x {figures['agencies']} agencies x "
        f"{figures['records_per_agency']} records in {figures['soak_seconds']:.1f} s: "
        f"{figures['rounds_per_minute']:.2f} rounds/min, "
        f"{figures['records_per_second']:.0f} records/s uploaded and matched"
    )
    out(f"{'route':<28}{'count':>7}{'p50 ms':>10}{'p99 ms':>10}{'late/early p50':>16}")
    for route, row in figures["routes"].items():
        out(
            f"{route:<28}{row['count']:>7}{row['p50_ms']:>10.1f}{row['p99_ms']:>10.1f}"
            f"{row['late_vs_early_p50']:>16.2f}"
        )
    after = figures["rss_mb_after_round"]
    split = figures["rss_mb_after_round_service_worker"]
    (service_1, worker_1), (service_n, worker_n) = split[0], split[-1]
    out(
        f"service memory (RSS, with worker): {after[0]:.0f} MB after round 1, "
        f"{after[-1]:.0f} MB after round {len(after)}, peak {figures['rss_mb_max']:.0f} MB, "
        f"slope {figures['rss_slope_mb_per_round']:+.2f} MB/round over rounds 2..N "
        f"({figures['rss_slope_mb_per_round_second_half']:+.2f} over the second half), "
        f"last/round 2 = {figures['rss_last_vs_round_2']:.3f}; the service process "
        f"{service_1:.0f} -> {service_n:.0f} MB, "
        f"its match worker {worker_1:.0f} -> {worker_n:.0f} MB"
    )
    out(f"errors: {len(figures['errors'])}" + "".join(f"\n  {e}" for e in figures["errors"][:20]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--agencies", type=int, default=6)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    figures = run(args.rounds, args.agencies, args.records, args.database_url)
    report(figures)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2))
    if figures["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
