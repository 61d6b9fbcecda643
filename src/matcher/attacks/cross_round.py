"""Linking across rounds: can the coordinator follow a child from one round's file to the next?

Follows the linkage-attack framing of Vatsalan, Christen & Verykios (2013, "A taxonomy of PPRL
techniques", the "linkage across sessions" concern) and the hardening argument for per-session
keys in Schnell (2015): the same agency's files of two rounds must share no value that links a row
of one to the same child's row in the other. Measured per channel: equal tokens, nearest Bloom
encoding (Dice), equal refs, and row order (row ``i`` of one file read as row ``i`` of the other).

Attacker's knowledge: both files (the coordinator stores every upload); nothing else. A record of
the second file counts as linked when the channel points at the same child's record in the first;
chance is one record (a random guess links ``1/n`` of them).
"""

from __future__ import annotations

from time import perf_counter

import numpy as np
import polars as pl

from matcher.attacks.columns import AttackColumn, bloom_bits, token_lists
from matcher.attacks.result import AttackResult

__all__ = ["cross_round_attacks"]

#: Most records compared by Dice (all pairs of the two samples); the rest are not attacked.
DICE_SAMPLE = 2000


def _result(channel: str, target: str, records: int, linked: int, started: float) -> AttackResult:
    return AttackResult(
        attack="cross_round",
        target=target,
        column=channel,
        truth="link",
        records=records,
        reidentified=linked,
        chance=1,
        seconds=perf_counter() - started,
    )


def _token_links(first: pl.Series, second: pl.Series, same: np.ndarray) -> int:
    """Second-round records whose first token found in the first round belongs to the same child."""
    off1, val1 = token_lists(first)
    off2, val2 = token_lists(second)
    owner1 = np.repeat(np.arange(len(off1) - 1), np.diff(off1))
    where = dict(zip(val1.tolist(), owner1.tolist(), strict=True))
    linked = 0
    for r in range(len(off2) - 1):
        for token in val2[off2[r] : off2[r + 1]].tolist():
            if token in where:
                linked += int(where[token] == same[r])
                break
    return linked


def _dice_links(
    first: pl.Series, second: pl.Series, same: np.ndarray, seed: int
) -> tuple[int, int]:
    """On a sample, second-round records whose most similar first-round encoding is the same
    child's (ties: none linked); returns (linked, records attacked)."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(second))[:DICE_SAMPLE]
    a = bloom_bits(first[same[rows]]).astype(np.float32)
    b = bloom_bits(second[rows]).astype(np.float32)
    both = b @ a.T
    dice = 2 * both / (b.sum(axis=1)[:, None] + a.sum(axis=1)[None, :] + 1e-9)
    best = np.argmax(dice, axis=1)
    unique = (dice == dice.max(axis=1)[:, None]).sum(axis=1) == 1
    return int(((best == np.arange(len(rows))) & unique).sum()), len(rows)


def cross_round_attacks(
    first: pl.DataFrame,
    second: pl.DataFrame,
    same: np.ndarray,
    columns: tuple[AttackColumn, ...],
    *,
    target: str,
    seed: int = 0,
) -> list[AttackResult]:
    """Every channel between two rounds' files; ``same[i]`` is the first-file row of the child on
    row ``i`` of the second file (the truth the attacker does not have)."""
    results = []
    n = second.height
    for column in columns:
        started = perf_counter()
        if column.shape == "tokens":
            linked = _token_links(first[column.name], second[column.name], same)
            results.append(_result(column.name, target, n, linked, started))
        else:
            linked, attacked = _dice_links(first[column.name], second[column.name], same, seed)
            results.append(_result(column.name, target, attacked, linked, started))
    if "ref" in first.columns:
        started = perf_counter()
        where = dict(zip(first["ref"].to_list(), range(first.height), strict=True))
        linked = sum(
            int(where.get(ref, -1) == same[i]) for i, ref in enumerate(second["ref"].to_list())
        )
        results.append(_result("ref", target, n, linked, started))
    started = perf_counter()
    rows = np.arange(min(n, first.height))
    results.append(_result("row_order", target, n, int((same[rows] == rows).sum()), started))
    return results
