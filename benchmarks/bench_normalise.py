"""Steward-side reading and normalisation throughput, against a per-row Python baseline.

Generates N rows (personnummer in mixed written forms, some samordningsnummer, mistyped check
digits and dropped leading zeros, Swedish names with double surnames, dates in several forms),
writes them as a Windows-1252 semicolon CSV, and times ``read_export`` and ``normalise_export``.
In the same run it times the per-row baseline on a subsample: the scalar reference functions
(``parse_identity_number``, ``given_names``, ``surname_parts``, ``parse_date``) in a Python loop.
``normalise_export`` runs ``--repeat`` times: the first call (Numba start-up, about 0.5 s that a
hashing run pays anyway, and regex compilation) is reported apart; the figure is the best of the
others.

Usage: ``python benchmarks/bench_normalise.py --rows 1000000 --repeat 3 --json out.json``
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from matcher.steward.dates import parse_date
from matcher.steward.exports import read_export
from matcher.steward.identifiers import luhn_check_digit, parse_identity_number
from matcher.steward.names import given_names, surname_parts
from matcher.steward.normalise import normalise_export

REFERENCE = date(2026, 11, 1)
GIVEN = [
    "Alice",
    "Maja",
    "Elsa",
    "Astrid",
    "Wilma",
    "Noah",
    "Hugo",
    "Lucas",
    "Liam",
    "Elias",
    "Mohammed",
    "Åsa",
    "Björn",
    "Märta",
]
SURNAMES = [
    "Andersson",
    "Johansson",
    "Öberg",
    "Åkesson",
    "Lindqvist",
    "Nyström",
    "Hassan",
    "Nguyen",
    "af_Klint",
]


def _rows(n: int, seed: int = 7) -> pl.DataFrame:
    """N synthetic export rows with the usual mess."""
    rng = np.random.default_rng(seed)
    years = rng.integers(2008, 2017, n)
    months = rng.integers(1, 13, n)
    days = rng.integers(1, 29, n)
    serials = rng.integers(0, 1000, n)
    snr = rng.random(n) < 0.03
    pnrs, births = [], []
    for y, m, d, s, c in zip(years, months, days, serials, snr, strict=True):
        nine = f"{y % 100:02d}{m:02d}{d + 60 if c else d:02d}{s:03d}"
        pnrs.append(nine + str(luhn_check_digit(nine)))
        births.append(f"{y}-{m:02d}-{d:02d}")
    form = rng.integers(0, 6, n)
    written = []
    for p, f, y in zip(pnrs, form, years, strict=True):
        century = str(y)[:2]
        written.append(
            [
                f"{p[:6]}-{p[6:]}",
                century + p,
                f"{century}{p[:6]}-{p[6:]}",
                p,
                p[:9] + str((int(p[9]) + 1) % 10),  # mistyped check digit
                p.lstrip("0") or p,  # spreadsheet dropped the leading zero
            ][f]
        )
    first = [
        " ".join(rng.choice(GIVEN, size=k)) for k in rng.integers(1, 3, n)
    ]  # one or two given names
    sep = rng.choice(["-", " "], n)
    last = [
        a.replace("_", " ") if rng.random() < 0.8 else f"{a}{s}{b}"
        for a, b, s in zip(rng.choice(SURNAMES, n), rng.choice(SURNAMES, n), sep, strict=True)
    ]
    return pl.DataFrame(
        {
            "Personnummer": written,
            "Förnamn": first,
            "Efternamn": last,
            "Födelsedatum": [b if i % 3 else "" for i, b in enumerate(births)],
            "Kategori": rng.choice(["frånvaro", "oro", "kränkning"], n),
            "Datum": [f"2026-{m:02d}-{d:02d}" for m, d in zip(months, days, strict=True)],
            "Ärende-ID": [f"SK-{i}" for i in range(n)],
            "Anteckning": ["fri text"] * n,
        }
    )


def _baseline(raw: pl.DataFrame) -> float:
    """Seconds for the per-row scalar loop over ``raw`` (standard-field frame)."""
    start = time.perf_counter()
    for row in raw.iter_rows(named=True):
        parse_identity_number(row["personnummer"], REFERENCE)
        given_names(row["first_name"])
        surname_parts(row["last_name"])
        parse_date(row["birth_date"], REFERENCE, latest=REFERENCE)
        parse_date(row["signal_date"], REFERENCE)
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print a table of rows/s with ratios against the baseline."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--baseline-rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    frame = _rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        text = frame.write_csv(separator=";")
        path.write_bytes(text.encode("cp1252"))
        del text
        t0 = time.perf_counter()
        export = read_export(path)
        t_read = time.perf_counter() - t0
    timings = []
    for _ in range(max(args.repeat, 1)):
        t0 = time.perf_counter()
        result = normalise_export(
            export.frame, reference_date=REFERENCE, source="export.csv", headers=None
        )
        timings.append(time.perf_counter() - t0)
    t_first = timings[0]
    t_norm = min(timings[1:] or timings)
    sub = export.frame.head(min(args.baseline_rows, export.frame.height))
    t_base = _baseline(sub)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    base_rate = sub.height / t_base
    figures = {
        "rows": args.rows,
        "read_s": round(t_read, 3),
        "normalise_s": round(t_norm, 3),
        "normalise_first_call_s": round(t_first, 3),
        "normalise_calls": len(timings),
        "read_rows_per_s": round(args.rows / t_read),
        "normalise_rows_per_s": round(args.rows / t_norm),
        "read_and_normalise_rows_per_s": round(args.rows / (t_read + t_norm)),
        "baseline_rows": sub.height,
        "baseline_rows_per_s": round(base_rate),
        "speedup_normalise_vs_baseline": round(args.rows / t_norm / base_rate, 1),
        "records": result.records.height,
        "rejects": result.rejects.height,
        "peak_rss_mb_whole_process": round(peak_mb),
    }
    print(f"{'stage':<34}{'rows/s':>14}{'x baseline':>12}")
    print(f"{'per-row scalar baseline':<34}{base_rate:>14,.0f}{1.0:>12.1f}")
    for label, seconds in (
        ("read_export (cp1252 CSV)", t_read),
        ("normalise_export", t_norm),
        ("read + normalise", t_read + t_norm),
    ):
        rate = args.rows / seconds
        print(f"{label:<34}{rate:>14,.0f}{rate / base_rate:>12.1f}")
    print(f"normalise_export: first call {t_first:.3f} s, best of {len(timings)} {t_norm:.3f} s")
    print(
        f"{args.rows:,} rows; {result.records.height:,} records, {result.rejects.height:,} "
        f"rejects lines; peak RSS {peak_mb:,.0f} MB (whole process, data generation included)"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
