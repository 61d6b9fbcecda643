"""Steward-side hashing throughput: CSV export → hashed file, against naive baselines and clkhash.

Generates N realistic rows (Swedish names with a Zipf tail, double surnames, personnummer in mixed
written forms, some samordningsnummer, missing and mistyped numbers), writes them as a
semicolon CSV, then hashes them end to end with ``matcher.steward.hashing.hash_export`` in a fresh
subprocess (so peak RSS is the pipeline's own). In the same run it measures, on a subsample:

* a naive baseline: per-row Python, one ``hmac`` call per token and a per-row Python Bloom
  encoder (HMAC per q-gram position, as textbook CLK code does);
* clkhash (``pip install clkhash``), when it imports, with a comparable schema.

Usage: ``python benchmarks/bench_hashing.py --rows 1000000 --json out.json``
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from matcher.steward.identifiers import luhn_check_digits

GIVEN = """
    Alice Maja Elsa Astrid Wilma Freja Olivia Ebba Selma Alma Agnes Ella Vera Saga Signe Stella
    Alva Lilly Ellen Clara Noah William Hugo Lucas Liam Oliver Elias Adam Alexander Leo Viktor
    Oscar Ludvig Nils Erik Axel Vincent Theo Isak Melvin Mohammed Ali Omar Yusuf Amir Fatima
    Amina Sara Leyla Zeynep Hanna Åsa Björn Göran Jönsson Märta Linnéa Léa
""".split()  # noqa: SIM905
SURNAMES = """
    Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson
    Pettersson Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson Magnusson Olofsson
    Lindström Lindqvist Lindgren Berg Axelsson Bergström Lundberg Lind Lundgren Lundqvist
    Mattsson Berglund Fredriksson Sandberg Henriksson Forsberg Sjöberg Wallin Ali Mohammed
    Hassan Ahmed Hussein Yilmaz Nguyen Ibrahim Öberg Åkesson Ekström Holm Björk Hedlund
""".split()  # noqa: SIM905
SIGNALS = ("frånvaro", "orosanmälan", "ringa brott", "avstängning", "skadegörelse")
_SYLL = """
    ka li ma ro se an el in ja to mi sa ne vi la ri ha be no de lo mö sv är ul
""".split()  # noqa: SIM905


def _vocab(base: list[str], size: int, rng: np.random.Generator) -> list[str]:
    """``base`` plus generated name-like strings, ``size`` in all (a realistic long tail)."""
    out = list(base)
    seen = set(out)
    while len(out) < size:
        word = "".join(rng.choice(_SYLL, size=rng.integers(2, 5))).capitalize()
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


def _zipf_pick(vocab: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    return rng.choice(np.array(vocab, dtype=object), size=n, p=weights / weights.sum())


def generate(n: int, seed: int = 7) -> pl.DataFrame:
    """``n`` rows of a realistic agency export (Swedish headers, mixed personnummer forms)."""
    rng = np.random.default_rng(seed)
    given_vocab = _vocab(GIVEN, 4000, rng)
    surname_vocab = _vocab(SURNAMES, 30000, rng)
    start = date(2006, 1, 1).toordinal()
    days = rng.integers(0, 18 * 365, size=n) + start
    birth = np.array([date.fromordinal(int(d)) for d in days])
    yy = np.array([b.year for b in birth])
    mm = np.array([b.month for b in birth])
    dd = np.array([b.day for b in birth])
    coord = rng.random(n) < 0.03
    dd_num = dd + np.where(coord, 60, 0)
    serial = rng.integers(0, 1000, size=n)
    nine = np.stack(
        [
            (yy // 10) % 10,
            yy % 10,
            mm // 10,
            mm % 10,
            dd_num // 10,
            dd_num % 10,
            serial // 100,
            (serial // 10) % 10,
            serial % 10,
        ],
        axis=1,
    )
    check = luhn_check_digits(nine)
    typo = rng.random(n) < 0.01
    check = np.where(typo, (check + 1) % 10, check)
    body = [f"{y:04d}{m:02d}{d:02d}" for y, m, d in zip(yy, mm, dd_num, strict=True)]
    tail = [f"{s:03d}{c}" for s, c in zip(serial, check, strict=True)]
    form = rng.integers(0, 4, size=n)
    shapes = ("{b}{t}", "{b}-{t}", "{s}-{t}", "{s}{t}")
    pnr: list[str | None] = [
        shapes[f].format(b=b, s=b[2:], t=t) for b, t, f in zip(body, tail, form, strict=True)
    ]
    missing = rng.random(n) < 0.05
    pnr = [None if m else p for p, m in zip(pnr, missing, strict=True)]
    first = _zipf_pick(given_vocab, n, rng)
    second = _zipf_pick(given_vocab, n, rng)
    two = rng.random(n) < 0.4
    given = [f"{a} {b}" if t else a for a, b, t in zip(first, second, two, strict=True)]
    sur1 = _zipf_pick(surname_vocab, n, rng)
    sur2 = _zipf_pick(surname_vocab, n, rng)
    double = rng.random(n) < 0.15
    surname = [f"{a}-{b}" if d else a for a, b, d in zip(sur1, sur2, double, strict=True)]
    signal_days = rng.integers(date(2025, 1, 1).toordinal(), date(2025, 12, 31).toordinal(), n)
    return pl.DataFrame(
        {
            "Ärende-ID": [f"S-{i:08d}" for i in range(n)],
            "Personnummer": pnr,
            "Förnamn": given,
            "Efternamn": surname,
            "Födelsedatum": [b.isoformat() for b in birth],
            "Signal": rng.choice(np.array(SIGNALS), size=n).tolist(),
            "Datum": [date.fromordinal(int(d)).isoformat() for d in signal_days],
            "Anteckning": ["fritext som aldrig ska hashas"] * n,
        }
    )


# --------------------------------------------------------------------------------------------
# naive baseline: per-row Python HMAC tokens and a per-row Python Bloom encoder


def _naive_row(key: bytes, row: dict[str, str | None], bits: int = 1024, k: int = 20) -> tuple:
    pnr = (row["Personnummer"] or "").replace("-", "")
    dob = row["Födelsedatum"] or ""
    given = (row["Förnamn"] or "").lower().split()
    surname = (row["Efternamn"] or "").lower()
    tokens = []
    if pnr:
        tokens.append(hmac.new(key, b"pnr\x00" + pnr.encode(), hashlib.sha256).digest()[:8])
    for g in given:
        for tag in (b"full", b"init", b"nodd", b"nomm", b"noyy"):
            msg = tag + b"\x00" + f"{dob}|{g}|{surname}".encode()
            tokens.append(hmac.new(key, msg, hashlib.sha256).digest()[:8])
    for tag in (b"date", b"ysur", b"ygiv", b"gs"):
        msg = tag + b"\x00" + f"{dob[:4]}|{surname[:3]}|{given[0][:3] if given else ''}".encode()
        tokens.append(hmac.new(key, msg, hashlib.sha256).digest()[:8])
    bloom = 0
    for name in [*given, surname]:
        padded = f"_{name}_"
        for j in range(len(padded) - 1):
            gram = f"{dob[:4]}|{padded[j : j + 2]}".encode()
            for i in range(k):
                h = hmac.new(key, gram + bytes([i]), hashlib.sha256).digest()
                bloom |= 1 << (int.from_bytes(h[:4], "little") % bits)
    return tokens, bloom.to_bytes(bits // 8, "little")


def naive_rate(frame: pl.DataFrame, rows: int) -> float:
    """Rows per second of the naive per-row Python baseline on ``rows`` rows."""
    key = os.urandom(32)
    sample = frame.head(rows).to_dicts()
    started = time.perf_counter()
    for row in sample:
        _naive_row(key, row)
    return len(sample) / (time.perf_counter() - started)


_CLKHASH = """
import csv, json, sys, time
from importlib.metadata import version
from clkhash import clk
from clkhash.comparators import NgramComparison
from clkhash.field_formats import BitsPerTokenStrategy, FieldHashingProperties, Ignore, StringSpec
from clkhash.schema import Schema
props = FieldHashingProperties(comparator=NgramComparison(2), strategy=BitsPerTokenStrategy(20))
fields = [Ignore("id")] + [
    StringSpec(identifier=n, hashing_properties=props) for n in ("given", "surname", "dob")
]
schema = Schema(fields, 1024)
with open(sys.argv[1], encoding="utf-8") as fh:
    rows = list(csv.reader(fh))[1:]
t = time.perf_counter()
clk.generate_clks(rows, schema, "secret")
print(json.dumps({"seconds": time.perf_counter() - t, "rows": len(rows),
                  "version": version("clkhash")}))
"""


def clkhash_rate(frame: pl.DataFrame, rows: int, python: str) -> tuple[float | None, str]:
    """Rows per second of clkhash (Bloom encodings only) run by ``python``, or None and why."""
    sample = frame.head(rows).select(
        pl.col("Ärende-ID").alias("id"),
        pl.col("Förnamn").fill_null("").alias("given"),
        pl.col("Efternamn").fill_null("").alias("surname"),
        pl.col("Födelsedatum").fill_null("").alias("dob"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pii.csv"
        sample.write_csv(path)
        proc = subprocess.run(
            [python, "-c", _CLKHASH, str(path)], capture_output=True, text=True, check=False
        )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"clkhash did not run with {python}: {last[:120]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["rows"] / result["seconds"], f"clkhash {result['version']}"


_CHILD = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
from matcher.steward.hashing import hash_export
from matcher.steward.keys import new_secret
src, out = Path(sys.argv[1]), Path(sys.argv[2])
t = time.perf_counter()
summary = hash_export(src, secret=new_secret(), round_id="bench", agency="skola",
    out=out / "h.parquet", map_path=out / "map.parquet", rejects_path=out / "rejects.csv",
    reference_date=date(2026, 1, 1), overwrite=True)
wall = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
peak = usage.ru_maxrss / 1024
cpu = usage.ru_utime + usage.ru_stime
# the same work again, stage by stage, for the breakdown
from matcher.steward.exports import read_export
from matcher.steward.hashed_file import write_hashed
from matcher.steward.hashing import hash_records
from matcher.steward.normalise import normalise_export
stages = {}
t = time.perf_counter(); export = read_export(src); stages["read"] = time.perf_counter() - t
t = time.perf_counter()
records = normalise_export(export.frame, reference_date=date(2026, 1, 1), source=src.name,
    headers=export.info.mapping.fields).records
stages["normalise"] = time.perf_counter() - t
t = time.perf_counter()
hashed, local_map = hash_records(records, secret=new_secret(), round_id="bench", agency="skola")
stages["hash (tokens + encodings)"] = time.perf_counter() - t
from matcher.steward.encodings import BloomEncoder
from matcher.steward.hashed_file import EncodingParams
from matcher.steward.keys import RoundKeys
from matcher.steward.tokens import date_words, name_columns
t = time.perf_counter()
encoder = BloomEncoder(RoundKeys.derive(new_secret(), "bench"), EncodingParams())
names = name_columns(records)
dates = date_words(records["birth_date"])
for start in range(0, records.height, 200_000):
    end = min(start + 200_000, records.height)
    encoder.encode(names.rows(start, end), dates[start:end])
stages["Bloom encodings only"] = time.perf_counter() - t
t = time.perf_counter()
write_hashed(out / "h2.parquet", hashed.header, hashed.frame, overwrite=True)
local_map.write_parquet(out / "m2.parquet", compression="lz4")  # as hash_export
stages["write"] = time.perf_counter() - t
print(json.dumps({"seconds": wall, "rows_read": summary.rows_read,
    "rows_hashed": summary.rows_hashed, "rejected": summary.rejected,
    "peak_rss_mb": peak, "cpu_seconds": cpu, "stages": stages}))
"""


def run_matcher(csv: Path, workdir: Path) -> dict:
    """Hash the CSV end to end in a fresh interpreter; wall time and peak RSS of that process."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(csv), str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate, hash, compare; print a table and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--baseline-rows", type=int, default=2_000)
    parser.add_argument(
        "--clkhash-rows",
        type=int,
        default=100_000,
        help="rows clkhash encodes (its process pool needs ~100k rows to reach full speed)",
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--clkhash-python",
        default=sys.executable,
        help="interpreter with clkhash installed (e.g. a separate venv); default: this one",
    )
    args = parser.parse_args()

    frame = generate(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        csv = work / "export.csv"
        frame.write_csv(csv, separator=";")
        # warm-up (Numba compilation is cached; the first ever run compiles)
        generate(1000).write_csv(work / "warm.csv", separator=";")
        run_matcher(work / "warm.csv", work)
        result = run_matcher(csv, work)
        hashed_mb = (work / "h.parquet").stat().st_size / 2**20
    rate = result["rows_read"] / result["seconds"]
    naive = naive_rate(frame, min(args.baseline_rows, args.rows))
    clk_rate, clk_note = clkhash_rate(frame, min(args.clkhash_rows, args.rows), args.clkhash_python)
    hash_rate = result["rows_hashed"] / result["stages"]["hash (tokens + encodings)"]
    bloom_rate = result["rows_hashed"] / result["stages"]["Bloom encodings only"]
    rows = [
        ("matcher hash (end to end, CSV → hashed file)", rate, 1.0),
        ("  of which hashing stage only (tokens + Bloom)", hash_rate, 1.0),
        ("naive per-row Python HMAC + Bloom (subsample)", naive, rate / naive),
    ]
    if clk_rate is not None:
        rows.append((f"{clk_note}: Bloom only (subsample)", clk_rate, rate / clk_rate))
        rows.append(("  hashing stage vs clkhash", hash_rate, hash_rate / clk_rate))
        rows.append(("  Bloom encodings only vs clkhash", bloom_rate, bloom_rate / clk_rate))
    print(f"rows: {args.rows:,}   peak RSS of the hashing process: {result['peak_rss_mb']:.0f} MB")
    print(
        f"end to end: {result['seconds']:.2f} s wall, {result['cpu_seconds']:.2f} s CPU "
        f"(all threads, imports included) on a machine with load {os.getloadavg()[0]:.1f}"
    )
    print(f"hashed file: {hashed_mb:.1f} MB   rows hashed: {result['rows_hashed']:,}")
    print(f"{'method':<52} {'rows/s':>12} {'matcher is':>12}")
    for name, r, ratio in rows:
        print(f"{name:<52} {r:>12,.0f} {ratio:>11.1f}x")
    if clk_rate is None:
        print(clk_note)
    print(
        "stages (same process, second pass): "
        + ", ".join(f"{name} {sec:.2f} s" for name, sec in result["stages"].items())
    )
    figures = {
        "rows": args.rows,
        "matcher_rows_per_s": rate,
        "matcher_seconds": result["seconds"],
        "stages_seconds": result["stages"],
        "hashing_stage_rows_per_s": hash_rate,
        "hashing_stage_vs_clkhash": hash_rate / clk_rate if clk_rate else None,
        "bloom_only_rows_per_s": bloom_rate,
        "bloom_only_vs_clkhash": bloom_rate / clk_rate if clk_rate else None,
        "peak_rss_mb": result["peak_rss_mb"],
        "cpu_seconds": result["cpu_seconds"],
        "load_average_1min": os.getloadavg()[0],
        "hashed_file_mb": hashed_mb,
        "naive_rows_per_s": naive,
        "speedup_vs_naive": rate / naive,
        "clkhash_rows_per_s": clk_rate,
        "speedup_vs_clkhash": rate / clk_rate if clk_rate else None,
        "clkhash_note": clk_note,
        "rejected": result["rejected"],
        "self_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
