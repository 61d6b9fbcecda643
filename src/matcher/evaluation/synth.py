"""Realistic synthetic Swedish agency exports with a ground truth, for the demo and evaluation.

A seeded generator draws a population of children (valid personnummer, some samordningsnummer,
some newly arrived children without a number and with default birth dates), puts them on the
lists of several agencies at configurable rates, adds the data-entry errors real exports have,
and writes one export per agency the way agency systems write them (Windows-1252 or UTF-8 CSV,
Excel with a title row) plus a truth file (Parquet: agency, record_id, child_id, error_types).
Work is vectorised with NumPy and polars; only the few records that get a name typo pass
through per-row Python, so millions of rows take seconds.

This module is the public entry (the CLI, benchmarks and tests import from here); the stages
live beside it: `synth_profiles` (agency systems), `synth_config` (settings and rate profiles),
`synth_people` (population and lists), `synth_records` (written values and errors),
`synth_writers` (files), `synth_names` (name data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from matcher.evaluation.synth_config import (
    SYNTH_PROFILES,
    SynthConfig,
    SynthData,
    SynthOutput,
    config_from_options,
)
from matcher.evaluation.synth_people import _children, _memberships, _Pools
from matcher.evaluation.synth_profiles import (
    _DATE_FORMATS,
    AGENCY_PROFILES,
    ERROR_TYPES,
    AgencyProfile,
)
from matcher.evaluation.synth_records import _records
from matcher.evaluation.synth_writers import write_exports

__all__ = [
    "AGENCY_PROFILES",
    "ERROR_TYPES",
    "SYNTH_PROFILES",
    "AgencyProfile",
    "SynthConfig",
    "SynthData",
    "SynthOutput",
    "config_from_options",
    "generate",
    "synthesize",
    "write_exports",
]


def generate(config: SynthConfig) -> SynthData:
    """Generate the population, its records, every agency's export frame and the truth."""
    rng = np.random.default_rng(config.seed)
    pools = _Pools()
    kids = _children(rng, config, pools)
    child, agency = _memberships(rng, config)
    records = _records(rng, config, pools, kids, child, agency)
    # One gather puts each agency's records together, in random order within the agency.
    order = np.argsort(agency.astype(np.int64) * (1 << 32) + rng.integers(0, 1 << 32, agency.size))
    records = records[order]
    counts = np.bincount(agency, minlength=len(config.agencies))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    exports: dict[str, pl.DataFrame] = {}
    truths: list[pl.DataFrame] = []
    for a, name in enumerate(config.agencies):
        profile = config.profiles[name]
        part = records.slice(int(offsets[a]), int(counts[a]))
        count = part.height
        width = max(profile.record_id_width, len(str(count * 10)))
        start = int(rng.integers(1, 10**width - count))
        numbers = start + rng.permutation(count)
        record_id = pl.concat_str(
            [
                pl.lit(profile.record_id_prefix),
                pl.Series(numbers).cast(pl.String).str.zfill(width),
                pl.lit(profile.record_id_suffix),
            ]
        )
        part = part.with_columns(record_id=record_id)
        fmt = _DATE_FORMATS[profile.signal_date_format]
        values = {
            "record_id": pl.col("record_id"),
            "personnummer": pl.col("personnummer"),
            "first_name": pl.col("first"),
            "last_name": pl.col("last"),
            "full_name": pl.concat_str([pl.col("last"), pl.lit(", "), pl.col("first")]),
            "birth_date": pl.col("birth_date"),
            "signal": pl.col("signal"),
            "signal_date": pl.col("signal_date").dt.strftime(fmt),
        }
        exports[name] = part.select(
            values[std].alias(header) for std, header in profile.headers.items()
        )
        truths.append(
            part.select(
                pl.lit(name).alias("agency"),
                pl.col("record_id"),
                pl.col("child").alias("child_id"),
                pl.col("kind")
                .replace_strict({0: "personnummer", 1: "samordningsnummer", 2: "none"})
                .alias("id_kind"),
                pl.col("error_types"),
                pl.col("signal"),
                pl.col("signal_date"),
            )
        )
    truth = pl.concat(truths)
    return SynthData(config=config, exports=exports, truth=truth)


def synthesize(config: SynthConfig, out_dir: Path, *, overwrite: bool = False) -> SynthOutput:
    """Generate and write in one call (what ``matcher synth`` does)."""
    return write_exports(generate(config), out_dir, overwrite=overwrite)
