"""The attack suite: every attack on every registered column, on the weak baselines and on matcher.

One entry, :func:`run_suite`, used by ``matcher audit``, ``benchmarks/bench_attacks.py`` and the
regression test. Which attack applies to which column follows the column's shape and truth
(``matcher.attacks.columns``): dictionary attacks on identity-number token columns, frequency
alignment and cross-round linking on every column, pattern mining and graph matching on Bloom
columns; the curious-agency measurement runs once per disclosure policy, without and with a cap.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from matcher.attacks.baselines import baseline_frame
from matcher.attacks.columns import BASELINE_COLUMNS, MATCHER_COLUMNS, AttackColumn
from matcher.attacks.cross_round import cross_round_attacks
from matcher.attacks.curious_agency import curious_agency_attack
from matcher.attacks.dictionary import Guess, dictionary_attack, sha256_guess, wrong_key_guess
from matcher.attacks.frequency import frequency_attack
from matcher.attacks.graph_matching import graph_matching_attack
from matcher.attacks.pattern_mining import pattern_mining_attack
from matcher.attacks.population import Population, draw_population
from matcher.attacks.result import AttackResult
from matcher.disclosure import DisclosurePolicy
from matcher.evaluation.synth_config import SynthConfig
from matcher.steward.hashing import CHUNK_ROWS, file_order, hash_records

__all__ = ["ATTACKS", "SuiteConfig", "matcher_file", "run_suite"]

ATTACKS = ("dictionary", "frequency", "pattern_mining", "graph_matching", "cross_round", "curious")


@dataclass(frozen=True)
class SuiteConfig:
    """One run: list size, the children's ages (the dictionary spans their birth years), seed,
    the public draw's size, the graph attack's sample and the curious agency's cap."""

    records: int = 2000
    age_min: int = 6
    age_max: int = 17
    seed: int = 1
    public: int = 50_000
    graph_nodes: int = 1000
    curious_cap_factor: float = 2.0
    attacks: tuple[str, ...] = ATTACKS
    fixed_keys: bool = False
    columns: tuple[AttackColumn, ...] = MATCHER_COLUMNS

    def key(self, purpose: str) -> bytes:
        """A 32-byte key: random, or derived from the seed with ``fixed_keys`` (repeatable runs
        for the regression test; never for real data)."""
        if not self.fixed_keys:
            return os.urandom(32)
        return hashlib.sha256(f"matcher-audit/{self.seed}/{purpose}".encode()).digest()


def matcher_file(
    population: Population, secret: bytes, round_id: str
) -> tuple[pl.DataFrame, np.ndarray]:
    """matcher's hashed frame of a population as ``hash_export`` writes it (each run in ref
    order), and per file row its record's row (the truth, which the file does not hold)."""
    hashed, _ = hash_records(population.records, secret=secret, round_id=round_id, agency="skola")
    frame = hashed.frame.with_row_index("_record")
    runs = [file_order(frame.slice(lo, CHUNK_ROWS)) for lo in range(0, frame.height, CHUNK_ROWS)]
    written = pl.concat(runs) if runs else frame
    return written.drop("_record"), written["_record"].to_numpy().astype(np.int64)


def run_suite(
    config: SuiteConfig, *, progress: Callable[[str], None] | None = None
) -> list[AttackResult]:
    """Run the configured attacks; results in the order they ran."""
    say = progress or (lambda _msg: None)
    population = draw_population(
        config.records, config.seed, age_min=config.age_min, age_max=config.age_max
    )
    public = draw_population(
        max(config.public, config.records),
        config.seed + 1,
        age_min=config.age_min,
        age_max=config.age_max,
    )
    now = SynthConfig().reference_date.year  # the synthetic children's ages count from it
    years = range(now - config.age_max - 1, now - config.age_min + 1)
    secret = config.key("secret")
    baseline_key = config.key("baseline")  # clkhash-style keys live across rounds
    base = baseline_frame(population, seed=baseline_key)
    hashed, _ = hash_records(population.records, secret=secret, round_id="round-1", agency="skola")
    matcher = hashed.frame  # in record order for scoring; the file's row order: cross_round
    targets: list[tuple[str, pl.DataFrame, tuple[AttackColumn, ...]]] = [
        ("baseline", base, BASELINE_COLUMNS),
        ("matcher", matcher, config.columns),
    ]
    results: list[AttackResult] = []
    for name, frame, columns in targets:
        for column in columns:
            if "dictionary" in config.attacks and column.truth == "pnr":
                say(f"dictionary {name}/{column.name}")
                guesses: dict[str, Guess] = {"sha256": sha256_guess}
                if name == "matcher":
                    guesses["wrong_key"] = wrong_key_guess("round-1")
                results.append(
                    dictionary_attack(
                        frame, column, population, target=name, years=years, guesses=guesses
                    )
                )
            if "frequency" in config.attacks:
                say(f"frequency {name}/{column.name}")
                results.append(frequency_attack(frame, column, population, public, target=name))
            if column.shape == "bloom" and "pattern_mining" in config.attacks:
                say(f"pattern mining {name}/{column.name}")
                results.append(
                    pattern_mining_attack(frame, column, population, public, target=name)
                )
            if column.shape == "bloom" and "graph_matching" in config.attacks:
                say(f"graph matching {name}/{column.name}")
                results.append(
                    graph_matching_attack(
                        frame, column, population, public, target=name, nodes=config.graph_nodes
                    )
                )
    if "cross_round" in config.attacks:
        say("cross-round linking")
        same = np.arange(population.size)
        results += cross_round_attacks(
            base,
            baseline_frame(population, seed=baseline_key),
            same,
            BASELINE_COLUMNS,
            target="baseline",
        )
        # the same agency's list in two rounds, written as hash_export writes it (ref order)
        first, first_rows = matcher_file(population, secret, "round-1")
        second, second_rows = matcher_file(population, secret, "round-2")
        where = np.empty(population.size, np.int64)
        where[first_rows] = np.arange(population.size)
        results += cross_round_attacks(
            first, second, where[second_rows], config.columns, target="matcher"
        )
    if "curious" in config.attacks:
        usual = max(int(0.05 * population.size), 1)
        cap = int(config.curious_cap_factor * usual)
        for policy in DisclosurePolicy:
            say(f"curious agency ({policy.value})")
            results.append(curious_agency_attack(population, policy=policy, seed=config.seed))
        results.append(curious_agency_attack(population, cap=cap, seed=config.seed))
    return results
