"""Pattern mining on Bloom filters: recover q-gram -> bit-position patterns, then re-identify.

Follows Christen, Ranbaduge, Vatsalan & Schnell, "Precise and fast cryptanalysis for Bloom filter
based privacy-preserving record linkage", IEEE TKDE 31(11), 2018 (and Christen, Schnell, Vatsalan
& Ranbaduge, PAKDD 2017): in an unsalted Bloom filter a q-gram sets the same positions in every
record, so the positions set together in exactly the share of filters that public statistics give
for the most frequent q-gram are that q-gram's pattern. The filters (and the attacker's public
records) are then split into those with and without the q-gram, and the next q-gram is mined in
each part, recursively. A record is read back as the public name whose q-grams agree with the
mined patterns it contains and lacks (the most frequent such name).

Simplified against the paper: frequent bit patterns are mined greedily (add the position most
filters of the current set share, until the set is the q-gram's expected size, then take every
position almost all of them have) instead of with Apriori/FP-growth, and re-identification needs
an exact agreement on the mined q-grams rather than a ranked candidate list.

Attacker's knowledge: public name statistics (a draw of the synthetic generator), which fields
are encoded and the q-gram length (from the encoding header); not the keys, nor ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np
import polars as pl

from matcher.attacks.baselines import bigrams
from matcher.attacks.columns import AttackColumn, bloom_bits
from matcher.attacks.population import Population
from matcher.attacks.result import AttackResult

#: Records scored at once when reading them back (bounds the score matrices' memory).
_CHUNK = 4096

__all__ = ["MiningParams", "encoded_grams", "mine_patterns", "pattern_mining_attack"]


@dataclass(frozen=True)
class MiningParams:
    """Knobs of the mining: pool sizes, tolerance, how many filters to mine on."""

    min_pool: int = 40
    min_share: float = 0.1
    max_depth: int = 14
    tolerance: float = 0.1
    min_positions: int = 4
    sample: int = 20_000
    tries: int = 6


def encoded_grams(value: str, truth: str) -> set[str]:
    """The q-grams the attacker assumes a value puts in the filter: each name field on its own."""
    if truth == "name" and " " in value:
        first, surname = value.split(" ", 1)
        return bigrams(first) | bigrams(surname)
    return bigrams(value)


def _greedy_pattern(bits: np.ndarray, target: float, tol: float) -> np.ndarray:
    """Positions set together in about ``target`` filters: narrow the set greedily by the most
    shared position, then keep every position set in almost all of it."""
    inside = np.ones(len(bits), np.bool_)
    # positions set in (nearly) every filter of the pool belong to q-grams the pool was split on
    always = np.flatnonzero(bits.mean(axis=0) >= 0.97)
    chosen: list[int] = list(always)
    while inside.sum() > target * (1 + tol):
        support = bits[inside].sum(axis=0).astype(np.int64)
        support[chosen] = -1
        j = int(np.argmax(support))
        if support[j] < target * (1 - tol):
            break
        chosen.append(j)
        inside &= bits[:, j].astype(np.bool_)
    pattern = np.zeros(0, np.int64)
    for _ in range(4):  # refine: the positions most of the set share, the filters holding them
        size = int(inside.sum())
        if size < target * (1 - 2 * tol) or size == 0:
            return np.zeros(0, np.int64)
        support = bits[inside].sum(axis=0)
        support[always] = 0
        pattern = np.flatnonzero(support >= 0.8 * size)
        if not len(pattern):
            return pattern
        inside = bits[:, pattern].mean(axis=1) >= 0.9
    return pattern


def _best_label(
    pattern: np.ndarray,
    bits: np.ndarray,
    has: np.ndarray,
    grams: list[str],
    mined: dict[str, np.ndarray],
    found: dict[str, np.ndarray],
) -> int:
    """The unmined q-gram a pattern belongs to: the one whose public share and co-occurrence with
    the q-grams mined so far best match the pattern's in the filters (q-grams that always occur
    together have the same share; their co-occurrences tell them apart)."""
    inside = bits[:, pattern].all(axis=1)
    share = inside.mean()
    public_share = has.mean(axis=0)
    open_ids = [i for i in range(len(grams)) if grams[i] not in mined]
    near = sorted(open_ids, key=lambda i: abs(public_share[i] - share))[:30]
    known = list(found)
    index = {g: i for i, g in enumerate(grams)}
    file_profile = np.array([found[h][inside].mean() for h in known]) if inside.any() else None

    def distance(i: int) -> float:
        d = 4 * abs(public_share[i] - share)
        if file_profile is not None and known:
            holders = has[:, i]
            if holders.any():
                profile = has[holders][:, [index[h] for h in known]].mean(axis=0)
                d += float(np.abs(profile - file_profile).mean())
        return float(d)

    return int(min(near, key=distance))


def mine_patterns(
    bits: np.ndarray, public_grams: list[set[str]], params: MiningParams
) -> dict[str, np.ndarray]:
    """q-gram -> mined bit positions, by recursive partitioning of filters and public records."""
    grams = sorted({g for s in public_grams for g in s})
    index = {g: i for i, g in enumerate(grams)}
    has = np.zeros((len(public_grams), len(grams)), np.bool_)
    for r, s in enumerate(public_grams):
        has[r, [index[g] for g in s]] = True
    mined: dict[str, np.ndarray] = {}
    found: dict[str, np.ndarray] = {}  # per mined q-gram, the filters holding its pattern
    stack = [(np.arange(len(bits)), np.arange(len(public_grams)), 0)]
    while stack:
        rows, pub, depth = stack.pop()
        if len(rows) < params.min_pool or len(pub) < params.min_pool or depth > params.max_depth:
            continue
        share = has[pub].mean(axis=0)
        open_grams = [
            int(i)
            for i in np.argsort(-share)
            if grams[i] not in mined and params.min_share <= share[i] <= 0.95
        ]
        g = -1
        for i in open_grams[: params.tries]:  # the most frequent q-gram whose pattern shows
            pattern = _greedy_pattern(bits[rows], share[i] * len(rows), params.tolerance)
            if len(pattern) >= params.min_positions:
                g = _best_label(pattern, bits, has, grams, mined, found)
                mined[grams[g]] = pattern
                found[grams[g]] = np.asarray(bits[:, pattern].all(axis=1), np.bool_)
                break
        if g < 0:  # split on the mined q-gram nearest half the pool, if any is informative
            known = [i for i in range(len(grams)) if grams[i] in mined]
            if not known:
                continue
            g = int(min(known, key=lambda i: abs(share[i] - 0.5)))
            if not 0.1 <= share[g] <= 0.9:
                continue
        inside = bits[rows][:, mined[grams[g]]].all(axis=1)
        stack.append((rows[inside], pub[has[pub, g]], depth + 1))
        stack.append((rows[~inside], pub[~has[pub, g]], depth + 1))
    return mined


def _gram_matrix(values: list[str], mined: list[str]) -> np.ndarray:
    """Per value, which mined q-grams its bigrams hold (``bool[len(values), len(mined)]``)."""
    index = {g: i for i, g in enumerate(mined)}
    out = np.zeros((len(values), len(mined)), np.bool_)
    for r, v in enumerate(values):
        out[r, [index[g] for g in bigrams(v) if g in index]] = True
    return out


def _best(present: np.ndarray, options: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per record, the option whose mined q-grams agree with the record's most (ties: the most
    frequent option)."""
    r = present.astype(np.float32)
    o = options.astype(np.float32)
    agree = r @ o.T + (1 - r) @ (1 - o).T
    return np.argmax(agree + 1e-3 * weight[None, :] / max(float(weight.max()), 1.0), axis=1)


def _read_back(present: np.ndarray, public: Population, truth: str, mined: list[str]) -> np.ndarray:
    """Each record read as a public value from the mined q-grams it holds: one field directly; a
    name as its best surname, then the first name that best completes it."""

    def table(values: np.ndarray) -> tuple[list[str], np.ndarray]:
        distinct, counts = np.unique(
            np.asarray([v for v in values if v], dtype=str), return_counts=True
        )
        return [str(v) for v in distinct], counts.astype(np.float32)

    out = np.full(len(present), None, dtype=object)
    if not mined or not len(present):
        return out
    if truth != "name":
        names, weight = table(public.truth(truth))
        options = _gram_matrix(names, mined)
        for lo in range(0, len(present), _CHUNK):
            pick = _best(present[lo : lo + _CHUNK], options, weight)
            out[lo : lo + _CHUNK] = np.asarray(names, dtype=object)[pick]
        return out
    firsts, fw = table(public.first)
    surnames, sw = table(public.surname)
    f_grams, s_grams = _gram_matrix(firsts, mined), _gram_matrix(surnames, mined)
    s = s_grams.astype(np.float32)
    for lo in range(0, len(present), _CHUNK):
        rows = slice(lo, lo + _CHUNK)
        # a surname's q-grams must all be in the record: score held minus (heavily) missing ones
        r = present[rows].astype(np.float32)
        s_score = r @ s.T - 4 * (1 - r) @ s.T + 1e-3 * sw[None, :] / max(float(sw.max()), 1.0)
        s_pick = np.argmax(s_score, axis=1)
        for sub in range(0, len(s_pick), 512):
            part = slice(sub, sub + 512)
            full = f_grams[None, :, :] | s_grams[s_pick[part]][:, None, :]
            agree = (full == present[rows][part][:, None, :]).sum(axis=2).astype(np.float32)
            f_pick = np.argmax(agree + 1e-3 * fw[None, :] / max(float(fw.max()), 1.0), axis=1)
            out[lo + sub : lo + sub + len(f_pick)] = [
                f"{firsts[f]} {surnames[t]}" for f, t in zip(f_pick, s_pick[part], strict=True)
            ]
    return out


def pattern_mining_attack(
    frame: pl.DataFrame,
    column: AttackColumn,
    population: Population,
    public: Population,
    *,
    target: str,
    params: MiningParams | None = None,
    seed: int = 0,
) -> AttackResult:
    """Mine q-gram patterns from the column's filters and read each record back as a name."""
    params = params or MiningParams()
    started = perf_counter()
    bits = bloom_bits(frame[column.name])
    rng = np.random.default_rng(seed)
    sample = rng.permutation(len(bits))[: params.sample]
    public_grams = [encoded_grams(str(v), column.truth) for v in public.truth(column.truth) if v]
    mined = mine_patterns(bits[sample], public_grams, params)
    order = sorted(mined)
    present = np.zeros((len(bits), len(order)), np.bool_)
    for i, g in enumerate(order):
        present[:, i] = bits[:, mined[g]].all(axis=1)
    guessed = _read_back(present, public, column.truth, order)
    truth = population.truth(column.truth)
    return AttackResult.scored(
        "pattern_mining", target, column, guessed, truth, started, mined_qgrams=float(len(order))
    )
