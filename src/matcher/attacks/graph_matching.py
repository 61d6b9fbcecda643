"""Graph matching (similarity) attack on Bloom encodings.

Follows Vidanage, Ranbaduge, Christen & Schnell, "Efficient pattern mining based cryptanalysis
for privacy-preserving record linkage" (ICDE 2019) and "A graph matching attack on privacy-
preserving record linkage" (CIKM 2020): build a similarity graph of the encoded records (Dice of
their filters) and one of the attacker's plain-text records (Dice of their q-gram sets), describe
each node by features of its neighbourhood, and match nodes across the graphs by those features.

Simplified against the paper: node features are the histogram of a node's similarities (which
includes its degree above each bin edge) after mapping encoded similarities onto the plain scale
by quantiles (the paper learns that mapping by regression), and nodes are matched greedily by
feature distance instead of by a bipartite solver; the graphs are all pairs of a sample.

Attacker's knowledge: a plain-text roster that overlaps the encoded list (a school roster holds
most children on any agency's list): the names of ``overlap`` of the sampled encoded records plus
as many other children from the public draw; which fields are encoded.
"""

from __future__ import annotations

from time import perf_counter

import numpy as np
import polars as pl

from matcher.attacks.columns import AttackColumn, bloom_bits
from matcher.attacks.pattern_mining import encoded_grams
from matcher.attacks.population import Population
from matcher.attacks.result import AttackResult

__all__ = ["graph_matching_attack"]

_BINS = np.linspace(0.2, 1.0, 17)


def _dice_matrix(sets: np.ndarray) -> np.ndarray:
    """All-pairs Dice of 0/1 rows (float32), the diagonal cleared."""
    x = sets.astype(np.float32)
    both = x @ x.T
    sizes = x.sum(axis=1)
    dice = 2 * both / (sizes[:, None] + sizes[None, :] + 1e-9)
    np.fill_diagonal(dice, 0)
    return dice


def _features(sim: np.ndarray) -> np.ndarray:
    """Per node, the log-count histogram of its similarities to the others."""
    counts = np.stack([np.histogram(row, _BINS)[0] for row in sim])
    return np.log1p(counts.astype(np.float32))


def _quantile_map(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``values`` moved onto the distribution of ``reference`` (rank for rank)."""
    flat = values.ravel()
    ranks = np.empty(len(flat), np.int64)
    ranks[np.argsort(flat, kind="stable")] = np.arange(len(flat))
    ref = np.sort(reference.ravel())
    at = (ranks * (len(ref) - 1)) // max(len(flat) - 1, 1)
    return ref[at].reshape(values.shape).astype(np.float32)


def _greedy_match(cost: np.ndarray) -> np.ndarray:
    """Per row, a distinct column, cheapest pairs first (-1 where none is left)."""
    order = np.argsort(cost, axis=None)
    rows, cols = (np.asarray(a, np.int64) for a in np.unravel_index(order, cost.shape))
    match = np.full(cost.shape[0], -1, np.int64)
    used = np.zeros(cost.shape[1], np.bool_)
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        if match[r] < 0 and not used[c]:
            match[r], used[c] = c, True
    return match


def graph_matching_attack(
    frame: pl.DataFrame,
    column: AttackColumn,
    population: Population,
    public: Population,
    *,
    target: str,
    nodes: int = 1000,
    overlap: float = 0.8,
    seed: int = 0,
) -> AttackResult:
    """Match a sample of encoded records to the attacker's roster by their similarity graphs."""
    started = perf_counter()
    rng = np.random.default_rng(seed)
    rows = rng.permutation(population.size)[:nodes]
    known = rows[: int(overlap * len(rows))]
    others = rng.permutation(public.size)[: len(rows) - len(known)]
    roster = np.concatenate(
        [population.truth(column.truth)[known], public.truth(column.truth)[others]]
    ).astype(str)
    gram_sets = [encoded_grams(v, column.truth) for v in roster]
    vocab = {g: i for i, g in enumerate(sorted({g for s in gram_sets for g in s}))}
    plain = np.zeros((len(roster), len(vocab)), np.uint8)
    for r, s in enumerate(gram_sets):
        plain[r, [vocab[g] for g in s]] = 1
    plain_sim = _dice_matrix(plain)
    encoded_sim = _quantile_map(_dice_matrix(bloom_bits(frame[column.name][rows])), plain_sim)
    enc_f, plain_f = _features(encoded_sim), _features(plain_sim)
    cost = np.abs(enc_f[:, None, :] - plain_f[None, :, :]).sum(axis=2)
    match = _greedy_match(cost)
    guessed = np.full(len(match), None, dtype=object)
    guessed[match >= 0] = roster[match[match >= 0]]
    truth = population.truth(column.truth)[rows]
    return AttackResult.scored(
        "graph_matching", target, column, guessed, truth, started, overlap=overlap
    )
