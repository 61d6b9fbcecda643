"""Frequency alignment: the file's most frequent values matched to the most frequent public ones.

Follows the frequency attacks on Bloom-filter and hashed linkage data (Kuzu, Kantarcioglu,
Durham & Malin, PETS 2011; Christen, Schnell, Vatsalan & Ranbaduge, PAKDD 2017, "Efficient
cryptanalysis of Bloom filters for PPRL", their frequency-alignment step): rank the file's
distinct values (tokens, blocking values, whole encodings) by how many records carry them, rank
the public values by frequency, and read the i-th value as the i-th public one.

Attacker's knowledge: public Swedish name statistics (a second draw of the synthetic generator,
:func:`matcher.attacks.population.draw_population`), i.e. the frequency of each first name,
surname and full name; nothing about the keys. Only values carried by at least ``min_count``
records are aligned (a value seen once carries no frequency information). A record's guess is the
public value aligned with its most frequent value.
"""

from __future__ import annotations

from time import perf_counter

import numpy as np
import polars as pl

from matcher.attacks.columns import AttackColumn, bloom_bits, token_lists
from matcher.attacks.population import Population
from matcher.attacks.result import AttackResult

__all__ = ["column_values", "frequency_attack", "public_ranking"]


def column_values(frame: pl.DataFrame, column: AttackColumn) -> tuple[np.ndarray, np.ndarray]:
    """A column's values per record as CSR (``uint64``): tokens as they are, a Bloom encoding as
    one value (a hash of its bytes; null encodings carry none)."""
    if column.shape == "tokens":
        return token_lists(frame[column.name])
    series = frame[column.name]
    bits = bloom_bits(series)
    packed = np.packbits(bits, axis=1)
    keys = pl.Series([row.tobytes() for row in packed], dtype=pl.Binary).hash(seed=0).to_numpy()
    present = series.is_not_null().to_numpy()
    offsets = np.zeros(len(series) + 1, np.int64)
    np.cumsum(present, out=offsets[1:])
    return offsets, keys[present].astype(np.uint64)


def public_ranking(public: Population, truth: str) -> np.ndarray:
    """The public values of a truth kind, most frequent first."""
    values = np.asarray([v for v in public.truth(truth) if v], dtype=object).astype(str)
    distinct, counts = np.unique(values, return_counts=True)
    order = np.lexsort((distinct, -counts))
    return distinct[order].astype(object)


def frequency_attack(
    frame: pl.DataFrame,
    column: AttackColumn,
    population: Population,
    public: Population,
    *,
    target: str,
    min_count: int = 2,
) -> AttackResult:
    """Align the column's values by frequency with the public values of its truth kind."""
    started = perf_counter()
    offsets, values = column_values(frame, column)
    distinct, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ranking = public_ranking(public, column.truth)
    order = np.lexsort((distinct, -counts))
    aligned = order[: min(int((counts >= min_count).sum()), len(ranking))]
    guess_of = np.full(len(distinct), None, dtype=object)
    guess_of[aligned] = ranking[: len(aligned)]
    guessed = np.full(population.size, None, dtype=object)
    owner = np.repeat(np.arange(population.size), np.diff(offsets))
    if len(values):
        # per record, its value carried by the most records (ties: the smallest id)
        best = np.lexsort((inverse, -counts[inverse], owner))
        first = np.ones(len(best), np.bool_)
        first[1:] = owner[best][1:] != owner[best][:-1]
        picked = best[first]
        guessed[owner[picked]] = guess_of[inverse[picked]]
    truth = population.truth(column.truth)
    return AttackResult.scored(
        "frequency", target, column, guessed, truth, started, aligned_values=float(len(aligned))
    )
