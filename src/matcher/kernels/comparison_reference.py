"""Plain-Python twins of ``kernels.comparison`` (same names and contracts; hypothesis compares)."""

from __future__ import annotations

import numpy as np

from matcher.kernels.comparison import DATE_LEVELS, NAME_LEVELS, NO_TF, SIMILAR, SOMEWHAT

__all__ = [
    "block_pair_scores",
    "compare_pair",
    "evidence_points",
    "name_tf",
    "pair_patterns",
    "pattern_code",
    "tf_adjustment",
]


def pattern_code(id_level: int, date_level: int, given: int, surname: int) -> int:
    """One integer for a pair's four levels."""
    return ((id_level * DATE_LEVELS + date_level) * NAME_LEVELS + given) * NAME_LEVELS + surname


def _values(off: np.ndarray, values: np.ndarray, i: int) -> list[int]:
    return [int(v) for v in values[off[i] : off[i + 1]]]


def _dice(bits: np.ndarray, pop: np.ndarray, i: int, j: int) -> float:
    total = int(pop[i]) + int(pop[j])
    if total == 0:
        return 0.0
    inter = sum(
        int(a & b).bit_count() for a, b in zip(bits[i].tolist(), bits[j].tolist(), strict=True)
    )
    return 2.0 * inter / total


def _name_level(
    off: np.ndarray,
    words: np.ndarray,
    sounds: np.ndarray,
    counts: np.ndarray,
    bits: np.ndarray,
    pop: np.ndarray,
    i: int,
    j: int,
) -> tuple[int, int]:
    wi, wj = _values(off, words, i), _values(off, words, j)
    if not wi or not wj:
        return 0, NO_TF
    ci, cj = _values(off, counts, i), _values(off, counts, j)
    agreeing = [max(ci[x], cj[y]) for x in range(len(wi)) for y in range(len(wj)) if wi[x] == wj[y]]
    if agreeing:
        return 1, min(agreeing)
    if set(_values(off, sounds, i)) & set(_values(off, sounds, j)):
        return 2, NO_TF
    d = _dice(bits, pop, i, j)
    if d >= SIMILAR:
        return 3, NO_TF
    if d >= SOMEWHAT:
        return 4, NO_TF
    return 5, NO_TF


def compare_pair(fields: tuple, i: int, j: int) -> tuple[int, int, int, int, int, int]:  # type: ignore[type-arg]
    """Levels (identity, birth date, given name, surname) and tf counts of records i, j."""
    (
        kinds,
        ids,
        gw_off,
        gw,
        gs,
        gcnt,
        sw_off,
        sw,
        ss,
        scnt,
        dp_off,
        dp,
        gbits,
        gpop,
        sbits,
        spop,
    ) = fields
    ki, kj = int(kinds[i]), int(kinds[j])
    if ki == 0 or kj == 0:
        id_level = 0
    elif ki != kj:
        id_level = 1
    else:
        id_level = 2 if int(ids[i]) == int(ids[j]) else 3
    di, dj = _values(dp_off, dp, i), _values(dp_off, dp, j)
    if not di or not dj:
        date_level = 0
    else:
        agree = sum(a == b for a, b in zip(di, dj, strict=True))
        date_level = 1 if agree == 3 else (2 if agree >= 1 else 3)
    given, tf_given = _name_level(gw_off, gw, gs, gcnt, gbits, gpop, i, j)
    surname, tf_surname = _name_level(sw_off, sw, ss, scnt, sbits, spop, i, j)
    if given >= 3 and surname >= 3:
        g_i = set(_values(gw_off, gw, i)), set(_values(gw_off, gs, i))
        s_i = set(_values(sw_off, sw, i)), set(_values(sw_off, ss, i))
        g_j = set(_values(gw_off, gw, j)), set(_values(gw_off, gs, j))
        s_j = set(_values(sw_off, sw, j)), set(_values(sw_off, ss, j))
        first = bool(g_i[0] & s_j[0]) or bool(g_i[1] & s_j[1])
        second = bool(s_i[0] & g_j[0]) or bool(s_i[1] & g_j[1])
        if first and second:
            given, surname = 2, 2
    return id_level, date_level, given, surname, tf_given, tf_surname


def pair_patterns(
    fields: tuple[np.ndarray, ...], left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pattern code and tf counts of each given pair."""
    rows = [
        compare_pair(fields, int(a), int(b))
        for a, b in zip(left.tolist(), right.tolist(), strict=True)
    ]
    codes = np.array([pattern_code(*r[:4]) for r in rows], np.int32)
    tf_given = np.array([r[4] for r in rows], np.int64)
    tf_surname = np.array([r[5] for r in rows], np.int64)
    return codes, tf_given, tf_surname


def evidence_points(date_level: int, given: int, surname: int) -> int:
    """Coarse count of agreeing evidence (see the kernel)."""
    points = {1: 2, 2: 1}.get(date_level, 0)
    return points + sum({1: 2, 2: 2, 3: 1}.get(level, 0) for level in (given, surname))


def tf_adjustment(tf: int, const: float, pseudo: float) -> float:
    """Term-frequency adjustment of an exact name agreement (0 when none agrees exactly)."""
    return 0.0 if tf <= 0 else const - float(np.log2(float(tf) + pseudo))


def name_tf(tf_given: int, tf_surname: int, tf_const: np.ndarray) -> float:
    """The tf adjustment of a pair's exact names, counted once (see the kernel)."""
    g = tf_adjustment(tf_given, *map(float, tf_const[0]))
    s = tf_adjustment(tf_surname, *map(float, tf_const[1]))
    return 0.5 * (g + s) if tf_given > 0 and tf_surname > 0 else g + s


def block_pair_scores(
    members: np.ndarray,
    starts: np.ndarray,
    b_lo: int,
    b_hi: int,
    pair_offsets: np.ndarray,
    rec_offsets: np.ndarray,
    rec_blocks: np.ndarray,
    fields: tuple,  # type: ignore[type-arg]
    group: np.ndarray,
    gtoken: np.ndarray,
    ghas: np.ndarray,
    min_points: int,
    weights: np.ndarray,
    tf_const: np.ndarray,
    bar: float,
    hist: np.ndarray,
    out_left: np.ndarray,
    out_right: np.ndarray,
    out_weight: np.ndarray,
    out_code: np.ndarray,
    out_found: np.ndarray,
    out_compared: np.ndarray,
) -> None:
    """Same skipping rules, counts and output layout as the kernel (counts in ``hist[0]``)."""
    from matcher.kernels.linkage_reference import first_shared_block

    for b in range(b_lo, b_hi):
        block = members[starts[b] : starts[b + 1]].tolist()
        found = compared = 0
        base = int(pair_offsets[b - b_lo])
        for x, p in enumerate(block):
            for q in block[x + 1 :]:
                compared += 1
                i, j = min(p, q), max(p, q)
                if i == j or group[i] == group[j]:
                    continue
                if ghas[i] and ghas[j] and gtoken[i] != gtoken[j]:
                    continue
                a, d, g, s, tg, ts = compare_pair(fields, i, j)
                if a != 2 and evidence_points(d, g, s) < min_points:
                    continue
                if first_shared_block(rec_offsets, rec_blocks, i, j) < b:
                    continue
                code = pattern_code(a, d, g, s)
                if weights.size == 0:
                    hist[0, code] += 1
                    continue
                w = float(weights[code]) + name_tf(tg, ts, tf_const)
                if w < bar:
                    continue
                out_left[base + found] = i
                out_right[base + found] = j
                out_weight[base + found] = w
                out_code[base + found] = code
                found += 1
        out_found[b - b_lo] = found
        out_compared[b - b_lo] = compared
