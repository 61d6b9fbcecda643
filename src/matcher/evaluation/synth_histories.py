"""Synthetic multi-year histories for the analysis round: signals that escalate across agencies.

Each child gets a start date and a path through the agencies; signals come at a rate that rises
over months and years, and a share of the children whose signals spread to several agencies end
in a placement after a realistic lead time (the outcome list). The output is already linked: one
opaque ``key`` per child, as the analysis round sees it after hashing and linkage. It reuses the
synthetic generator's agency names (``AGENCY_PROFILES``) so demo rounds line up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from matcher.evaluation.synth import AGENCY_PROFILES
from matcher.followup.model import (
    DEFAULT_ACTION_TYPES,
    Action,
    ActionStatus,
    CaseFollowUp,
    LadderStep,
    Outcome,
)

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


def follow_ups(
    *, rounds: int = 4, cases_per_round: int = 40, start: date = date(2025, 1, 15), seed: int = 0
) -> list[CaseFollowUp]:
    """Synthetic activity lists: a round every quarter, cases with steps, actions and outcomes."""
    rng = np.random.default_rng(seed)
    codes = _agency_codes(4)
    out = []
    for r in range(rounds):
        rdate = start + timedelta(days=91 * r)
        for k in range(cases_per_round):
            n = int(min(rng.geometric(0.5) + 1, len(codes)))
            agencies = tuple(sorted(rng.choice(codes, n, replace=False).tolist()))
            meeting = rdate + timedelta(days=int(rng.gamma(2.0, 12.0)))
            actions = []
            for _ in range(int(rng.integers(0, 3))):
                due = meeting + timedelta(days=int(rng.integers(14, 90)))
                status = ActionStatus(
                    rng.choice([s.value for s in ActionStatus], p=[0.1, 0.15, 0.7, 0.05])
                )
                done = (
                    due + timedelta(days=int(rng.integers(-40, 10)))
                    if status is ActionStatus.DONE
                    else None
                )
                actions.append(
                    Action(
                        str(rng.choice(DEFAULT_ACTION_TYPES)),
                        str(rng.choice(agencies)),
                        due,
                        status,
                        done,
                    )
                )
            out.append(
                CaseFollowUp(
                    case_id=f"R{r + 1}-{k + 1:03d}",
                    round_id=f"{rdate:%Y}-Q{(rdate.month - 1) // 3 + 1}",
                    round_date=rdate,
                    agencies=agencies,
                    earliest_signal=rdate - timedelta(days=int(rng.gamma(2.0, 60.0))),
                    meeting_date=meeting,
                    step=LadderStep(rng.choice([s.value for s in LadderStep])),
                    actions=tuple(actions),
                    follow_up_date=meeting + timedelta(days=90),
                    outcome=Outcome(rng.choice([o.value for o in Outcome])),
                )
            )
    return out
