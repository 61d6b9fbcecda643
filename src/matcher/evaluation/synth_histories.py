"""Synthetic multi-year histories for the analysis round: signals that escalate across agencies.

Each child gets a start date and a path through the agencies; signals come at a rate that rises
over months and years, and a share of the children whose signals spread to several agencies end
in a placement after a realistic lead time (the outcome list). The output is already linked: one
opaque ``key`` per child, as the analysis round sees it after hashing and linkage. It reuses the
synthetic generator's agency names (``AGENCY_PROFILES``) so demo rounds line up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from matcher.evaluation.synth import AGENCY_PROFILES

EXTRA_AGENCIES: tuple[str, ...] = ("elevhalsa", "bup", "vard", "kultur")
"""Further agency codes when more are asked for than the synth generator has profiles."""


@dataclass(frozen=True)
class Histories:
    """Linked signals (key, agency, date) and outcomes (key, date) with the true outcome keys."""

    signals: pl.DataFrame
    outcomes: pl.DataFrame
    agencies: tuple[str, ...]


def _agency_codes(n: int) -> tuple[str, ...]:
    """The synth generator's agency names first, then EXTRA_AGENCIES."""
    codes = tuple(dict.fromkeys((*AGENCY_PROFILES, *EXTRA_AGENCIES)))
    return codes[:n]


def histories(
    *,
    children: int = 20_000,
    agencies: int = 6,
    years: int = 5,
    start: date = date(2020, 1, 1),
    placement_rate: float = 0.5,
    seed: int = 0,
) -> Histories:
    """Generate escalating signal histories over ``years``; some multi-agency children are placed.

    ``placement_rate`` is the chance that a child who reached three or more agencies is placed.
    """
    rng = np.random.default_rng(seed)
    codes = _agency_codes(agencies)
    span = 365 * years
    onset = rng.integers(0, span, children)
    # How many agencies each child reaches (1 most often) and in which order.
    reach = np.minimum(rng.geometric(0.45, children), agencies)
    order = np.argsort(rng.random((children, agencies)) * (1 + np.arange(agencies)), axis=1)
    # Days between reaching successive agencies: months, shrinking as things escalate.
    gaps = rng.gamma(2.0, 90.0, (children, agencies)).astype(np.int64)
    gaps[:, 0] = 0
    reach_day = onset[:, None] + np.cumsum(gaps, axis=1)
    keys, agency_idx, days = [], [], []
    for level in range(agencies):
        who = np.nonzero((reach > level) & (reach_day[:, level] < span))[0]
        # Signals at this agency: a burst whose size grows with the level reached.
        n_sig = rng.poisson(1.5 + level, who.size) + 1
        rep = np.repeat(who, n_sig)
        offs = rng.exponential(120.0, rep.size).astype(np.int64)
        keys.append(rep)
        agency_idx.append(order[rep, level])
        days.append(np.minimum(reach_day[rep, level] + offs, span - 1))
    k = np.concatenate(keys)
    d = np.concatenate(days)
    key_of = np.array([f"c{i:07d}" for i in range(children)])
    base = np.datetime64(start, "D")
    signals = pl.DataFrame(
        {
            "key": key_of[k],
            "agency": np.array(codes)[np.concatenate(agency_idx)],
            "date": (base + d.astype("timedelta64[D]")),
        }
    ).with_columns(pl.col("date").cast(pl.Date))
    last = reach_day[np.arange(children), np.maximum(reach - 1, 0)]
    placed = (reach >= 3) & (rng.random(children) < placement_rate)
    placed |= (reach < 3) & (rng.random(children) < 0.01)
    lead = rng.gamma(2.0, 60.0, children).astype(np.int64) + 14
    when = last + lead
    ok = placed & (when < span)
    outcomes = pl.DataFrame(
        {"key": key_of[ok], "date": base + when[ok].astype("timedelta64[D]")}
    ).with_columns(pl.col("date").cast(pl.Date))
    return Histories(signals, outcomes, codes)
