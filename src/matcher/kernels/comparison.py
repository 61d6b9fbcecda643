"""Numba kernels of the comparison model: each record pair's comparison levels, field by field.

Pure functions over arrays (twin: ``comparison_reference``, compared by hypothesis in
``tests/test_comparison_kernels.py``). A record's field evidence is the tuple ``fields``:

``(kinds, ids, gw_off, gw, gs, gcnt, sw_off, sw, ss, scnt, dp_off, dp, gbits, gpop, sbits, spop)``

``kinds`` uint8 per record (0 none, 1 personnummer, 2 samordningsnummer) and ``ids`` its keyed
identity token (uint64); ``gw``/``gs``/``gcnt``
the keyed words, keyed sound keys and round-wide counts of each given name (CSR by ``gw_off``),
likewise ``sw``/``ss``/``scnt`` for surname parts; ``dp`` the three birth-date part-pair tokens
(CSR by ``dp_off``: 0 or 3 per record); ``gbits``/``sbits`` the per-field Bloom filters
(``uint64[n, words]``) and ``gpop``/``spop`` their popcounts (0: none).

Levels (``linkage.model`` names them): identity 0 missing, 1 kinds differ (personnummer
against samordningsnummer: one child may hold both), 2 agree, 3 differ (two numbers of one kind:
never one child); birth date 0 missing, 1 exact, 2 one part
differs, 3 differs; each name field 0 missing, 1 a name agrees exactly, 2 sound keys agree,
3 similar (Bloom Dice >= SIMILAR), 4 somewhat similar (>= SOMEWHAT), 5 differs. Given name and
surname swapped between the two records counts as sound-level agreement of both fields.
"""

from __future__ import annotations

import numpy as np
from numba import get_thread_id, njit, prange

from matcher._numba_config import JIT, JIT_PARALLEL
from matcher.kernels.linkage import NO_SHARED_BLOCK, first_shared_block, popcount64

#: Bloom Dice at or above which two name fields are "similar" / "somewhat similar" (per-field
#: filters with the diffusion layer: one typo gives a median of ~0.69, random names ~0.4).
SIMILAR = 0.62
SOMEWHAT = 0.5
ID_LEVELS, DATE_LEVELS, NAME_LEVELS = 4, 4, 6
PATTERNS = ID_LEVELS * DATE_LEVELS * NAME_LEVELS * NAME_LEVELS
#: tf count reported when a field has no exact agreement.
NO_TF = 0


@njit(inline="always", **JIT)
def pattern_code(id_level: int, date_level: int, given: int, surname: int) -> int:
    """One integer for a pair's four levels (``0 .. PATTERNS - 1``)."""
    return ((id_level * DATE_LEVELS + date_level) * NAME_LEVELS + given) * NAME_LEVELS + surname


def _least_intersections(bar: float, bits: int) -> np.ndarray:
    """For each popcount total ``t`` of two filters, the least intersection ``a`` with
    ``2 * a / t >= bar`` (the Dice test as the twin computes it, in the same float arithmetic),
    so the kernel compares integers: no division, no branch on it. Total 0 never passes."""
    table = np.empty(2 * bits + 1, np.int64)
    table[0] = 2 * bits + 1
    for t in range(1, 2 * bits + 1):
        a = 0
        while a <= t and 2.0 * a / t < bar:
            a += 1
        table[t] = a
    return table


_BLOOM_BITS = 256  # steward.fields.FIELD_BLOOM_BITS (kernels import nothing from steward)
_SIMILAR_AT = _least_intersections(SIMILAR, _BLOOM_BITS)
_SOMEWHAT_AT = _least_intersections(SOMEWHAT, _BLOOM_BITS)


@njit(inline="always", **JIT)
def _dice_level(bits: np.ndarray, pop: np.ndarray, i: int, j: int) -> int:
    """3 when the filters' Dice is at least SIMILAR, 4 at least SOMEWHAT, else 5."""
    inter = 0
    for k in range(bits.shape[1]):
        inter += popcount64(bits[i, k] & bits[j, k])
    total = min(pop[i] + pop[j], _SIMILAR_AT.size - 1)
    level = 5
    if inter >= _SOMEWHAT_AT[total]:
        level = 4
    if inter >= _SIMILAR_AT[total]:
        level = 3
    return level


@njit(inline="always", **JIT)
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
    """Level of one name field for records i, j and, when a name agrees, the smallest round count
    among the agreeing names (the rarest shared name, for the term-frequency adjustment).

    Every test is computed and the level picked at the end, without early exits: which branch a
    pair takes is unpredictable, and mispredicted branches cost more than the tests (5x)."""
    rarest = -1
    sound = False
    for x in range(off[i], off[i + 1]):
        for y in range(off[j], off[j + 1]):
            if words[x] == words[y]:
                c = max(counts[x], counts[y])
                if rarest < 0 or c < rarest:
                    rarest = c
            sound |= sounds[x] == sounds[y]
    level = _dice_level(bits, pop, i, j)
    if sound:
        level = 2
    tf = NO_TF
    if rarest >= 0:
        level = 1
        tf = rarest
    if off[i] == off[i + 1] or off[j] == off[j + 1]:
        level = 0
        tf = NO_TF
    return level, tf


@njit(inline="always", **JIT)
def _crossed(
    g_off: np.ndarray,
    gw: np.ndarray,
    gs: np.ndarray,
    s_off: np.ndarray,
    sw: np.ndarray,
    ss: np.ndarray,
    i: int,
    j: int,
) -> bool:
    """Whether a given name of i agrees (word or sound key) with a surname part of j."""
    hit = False
    for x in range(g_off[i], g_off[i + 1]):
        for y in range(s_off[j], s_off[j + 1]):
            hit |= (gw[x] == sw[y]) | (gs[x] == ss[y])
    return hit


@njit(**JIT)
def compare_pair(fields: tuple, i: int, j: int) -> tuple[int, int, int, int, int, int]:  # type: ignore[type-arg]
    """Levels (identity, birth date, given name, surname) of records i, j and the tf counts of
    their agreeing given name and surname (NO_TF where none agrees exactly)."""
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
    return _compare(
        kinds, ids, gw_off, gw, gs, gcnt, sw_off, sw, ss, scnt, dp_off, dp, gbits, gpop, sbits,
        spop, i, j,
    )  # fmt: skip


@njit(inline="always", **JIT)
def _compare(
    kinds: np.ndarray,
    ids: np.ndarray,
    gw_off: np.ndarray,
    gw: np.ndarray,
    gs: np.ndarray,
    gcnt: np.ndarray,
    sw_off: np.ndarray,
    sw: np.ndarray,
    ss: np.ndarray,
    scnt: np.ndarray,
    dp_off: np.ndarray,
    dp: np.ndarray,
    gbits: np.ndarray,
    gpop: np.ndarray,
    sbits: np.ndarray,
    spop: np.ndarray,
    i: int,
    j: int,
) -> tuple[int, int, int, int, int, int]:
    """`compare_pair` on the unpacked arrays (hot loops unpack ``fields`` once: unpacking a
    tuple of arrays per pair costs reference counting, ten times the comparison itself)."""
    id_level = 3
    if ids[i] == ids[j]:
        id_level = 2
    if kinds[i] != kinds[j]:
        id_level = 1
    if kinds[i] == 0 or kinds[j] == 0:
        id_level = 0
    di = dp_off[i]
    dj = dp_off[j]
    agree = 0
    if dp_off[i + 1] - di == 3 and dp_off[j + 1] - dj == 3:
        for k in range(3):
            agree += dp[di + k] == dp[dj + k]
    date_level = 3
    if agree >= 1:
        date_level = 2
    if agree == 3:
        date_level = 1
    if di == dp_off[i + 1] or dj == dp_off[j + 1]:
        date_level = 0
    given, tf_given = _name_level(gw_off, gw, gs, gcnt, gbits, gpop, i, j)
    surname, tf_surname = _name_level(sw_off, sw, ss, scnt, sbits, spop, i, j)
    crossed = _crossed(gw_off, gw, gs, sw_off, sw, ss, i, j) & _crossed(
        sw_off, sw, ss, gw_off, gw, gs, i, j
    )
    if crossed and given >= 3 and surname >= 3:
        given, surname = 2, 2
    return id_level, date_level, given, surname, tf_given, tf_surname


@njit(inline="always", **JIT)
def _gather_csr(
    off: np.ndarray, values: np.ndarray, rec: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The lists of records ``rec`` as a new CSR (offsets, values), in ``rec`` order."""
    m = rec.size
    new_off = np.empty(m + 1, np.int64)
    new_off[0] = 0
    for x in range(m):
        new_off[x + 1] = new_off[x] + off[rec[x] + 1] - off[rec[x]]
    out = np.empty(new_off[m], values.dtype)
    for x in range(m):
        start = off[rec[x]]
        for k in range(new_off[x + 1] - new_off[x]):
            out[new_off[x] + k] = values[start + k]
    return new_off, out


@njit(**JIT)
def gather_fields(fields: tuple, rec: np.ndarray) -> tuple:  # type: ignore[type-arg]
    """The field evidence of records ``rec`` as a compact ``fields`` tuple (record ``x`` of the
    result is ``rec[x]``): a block's pairs then read neighbouring memory, not the whole round's."""
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
    g_off, l_gw = _gather_csr(gw_off, gw, rec)
    _, l_gs = _gather_csr(gw_off, gs, rec)
    _, l_gc = _gather_csr(gw_off, gcnt, rec)
    s_off, l_sw = _gather_csr(sw_off, sw, rec)
    _, l_ss = _gather_csr(sw_off, ss, rec)
    _, l_sc = _gather_csr(sw_off, scnt, rec)
    d_off, l_dp = _gather_csr(dp_off, dp, rec)
    m = rec.size
    l_gbits = np.empty((m, gbits.shape[1]), gbits.dtype)
    l_sbits = np.empty((m, sbits.shape[1]), sbits.dtype)
    for x in range(m):
        r = rec[x]
        for k in range(gbits.shape[1]):
            l_gbits[x, k] = gbits[r, k]
        for k in range(sbits.shape[1]):
            l_sbits[x, k] = sbits[r, k]
    return (
        kinds[rec], ids[rec], g_off, l_gw, l_gs, l_gc, s_off, l_sw, l_ss, l_sc, d_off, l_dp,
        l_gbits, gpop[rec], l_sbits, spop[rec],
    )  # fmt: skip


@njit(inline="always", **JIT)
def _sketches(
    g_off: np.ndarray,
    gw: np.ndarray,
    gs: np.ndarray,
    s_off: np.ndarray,
    sw: np.ndarray,
    ss: np.ndarray,
) -> np.ndarray:
    """Per record a 128-bit sketch of its name words and sound keys (two bits from each keyed
    value): records that share a word or sound key, in any field, share a sketch bit."""
    m = g_off.size - 1
    out = np.zeros((m, 2), np.uint64)
    for x in range(m):
        for off, words, sounds in ((g_off, gw, gs), (s_off, sw, ss)):
            for k in range(off[x], off[x + 1]):
                for v in (words[k], sounds[k]):
                    out[x, (v >> np.uint64(6)) & np.uint64(1)] |= np.uint64(1) << (
                        v & np.uint64(63)
                    )
    return out


@njit(**JIT)
def _screen_layout(
    l_doff: np.ndarray,
    l_dp: np.ndarray,
    l_gbits: np.ndarray,
    l_sbits: np.ndarray,
    l_kinds: np.ndarray,
    l_ids: np.ndarray,
    sketch: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A block's screening data word-major (row ``k`` holds word ``k`` of every member), so the
    screen's inner loop over members runs over contiguous memory and vectorises: sketches (2),
    birth-date parts (3; ``known`` says whether a member has them), the two name filters
    (4 + 4 words), and the identity token with its kind (0 where none)."""
    m = l_kinds.size
    words = np.zeros((2 + 3 + 8 + 1, m), np.uint64)
    known = np.zeros(m, np.int64)
    for x in range(m):
        words[0, x] = sketch[x, 0]
        words[1, x] = sketch[x, 1]
        if l_doff[x + 1] - l_doff[x] == 3:
            known[x] = 1
            for k in range(3):
                words[2 + k, x] = l_dp[l_doff[x] + k]
        for k in range(4):
            words[5 + k, x] = l_gbits[x, k]
            words[9 + k, x] = l_sbits[x, k]
        if l_kinds[x] != 0:
            words[13, x] = l_ids[x] * np.uint64(4) + np.uint64(l_kinds[x])
    return words, known, np.zeros(m, np.bool_)


@njit(inline="always", **JIT)
def _screen(
    x: int,
    m: int,
    min_points: int,
    words: np.ndarray,
    known: np.ndarray,
    gpop: np.ndarray,
    spop: np.ndarray,
    keep: np.ndarray,
) -> None:
    """``keep[y]`` for members ``y > x``: False only when the pair (x, y) cannot reach
    ``min_points`` of `evidence_points` and its identity numbers do not agree. Without a shared
    sketch bit no name or sound key agrees in any field, so each name field scores at most 1
    (its filters similar). Branch-free over contiguous rows, so it vectorises."""
    sk0, sk1 = words[0, x], words[1, x]
    d0, d1, d2 = words[2, x], words[3, x], words[4, x]
    kx = known[x]
    idx = words[13, x]
    cap = _SIMILAR_AT.size - 1
    for y in range(x + 1, m):
        overlap = ((sk0 & words[0, y]) | (sk1 & words[1, y])) != 0
        # integer sums of the comparisons (bool + bool is a logical or in plain NumPy)
        agree = (
            np.int64(d0 == words[2, y]) + np.int64(d1 == words[3, y]) + np.int64(d2 == words[4, y])
        ) * (kx * known[y])
        pts = (agree == 3) * 2 + ((agree >= 1) & (agree < 3)) * 1
        gi = (
            popcount64(words[5, x] & words[5, y])
            + popcount64(words[6, x] & words[6, y])
            + popcount64(words[7, x] & words[7, y])
            + popcount64(words[8, x] & words[8, y])
        )
        si = (
            popcount64(words[9, x] & words[9, y])
            + popcount64(words[10, x] & words[10, y])
            + popcount64(words[11, x] & words[11, y])
            + popcount64(words[12, x] & words[12, y])
        )
        pts += gi >= _SIMILAR_AT[min(gpop[x] + gpop[y], cap)]
        pts += si >= _SIMILAR_AT[min(spop[x] + spop[y], cap)]
        same_id = (idx != 0) & (idx == words[13, y])
        keep[y] = overlap | same_id | (pts >= min_points)  # fmt: skip


@njit(inline="always", **JIT)
def evidence_points(date_level: int, given: int, surname: int) -> int:
    """A coarse count of agreeing evidence, to drop hopeless pairs before the model sees them:
    2 for an exact or one-part-off date and for an exact or sound-alike name field, 1 for a
    similar name field."""
    points = 0
    if date_level == 1 or date_level == 2:
        points += 2 if date_level == 1 else 1
    for level in (given, surname):
        if level == 1 or level == 2:
            points += 2
        elif level == 3:
            points += 1
    return points


@njit(**JIT_PARALLEL)
def pair_patterns(
    fields: tuple[np.ndarray, ...], left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pattern code and tf counts of each given pair ``(left[p], right[p])``."""
    n = left.size
    codes = np.empty(n, np.int32)
    tf_given = np.empty(n, np.int64)
    tf_surname = np.empty(n, np.int64)
    for p in prange(n):
        a, b, g, s, tg, ts = compare_pair(fields, left[p], right[p])
        codes[p] = pattern_code(a, b, g, s)
        tf_given[p] = tg
        tf_surname[p] = ts
    return codes, tf_given, tf_surname


@njit(inline="always", **JIT)
def tf_adjustment(tf: int, const: float, pseudo: float) -> float:
    """Term-frequency adjustment of an exact name agreement: ``const - log2(tf + pseudo)`` (see
    ``linkage.model.MatchModel.tf_constants``), 0 when no name agrees exactly."""
    if tf <= 0:
        return 0.0
    return const - np.log2(float(tf) + pseudo)


@njit(inline="always", **JIT)
def name_tf(tf_given: int, tf_surname: int, tf_const: np.ndarray) -> float:
    """The tf adjustment of a pair's exact names, counted once: each name's keyed word is salted
    with the other name (``steward.fields``), so both counts measure one full name; with both
    exact, their mean."""
    g = tf_adjustment(tf_given, tf_const[0, 0], tf_const[0, 1])
    s = tf_adjustment(tf_surname, tf_const[1, 0], tf_const[1, 1])
    if tf_given > 0 and tf_surname > 0:
        return 0.5 * (g + s)
    return g + s


@njit(**JIT_PARALLEL)
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
    """Compare every pair inside blocks ``b_lo..b_hi``; count or score those with evidence.

    A pair is skipped when both records are one (``group``), when their components hold
    different personnummer (``gtoken``/``ghas``), when it has fewer than ``min_points`` of
    `evidence_points` (agreeing identity numbers always pass), and in every block but the first
    listed one the two share. With ``weights`` empty, each remaining pair adds one to
    ``hist[thread, pattern]`` (the model's training counts, no pair kept). Otherwise its log2
    match odds ``weights[pattern]`` plus the `tf_adjustment` of its exact names (``tf_const``
    rows: given name, surname) is computed and the pair (with its weight and pattern) is
    written from ``pair_offsets[b - b_lo]`` on when it reaches ``bar``;
    ``out_found``/``out_compared`` count kept and compared pairs.
    """
    scoring = weights.size > 0
    for bi in prange(b_hi - b_lo):
        b = b_lo + bi
        s = starts[b]
        m = starts[b + 1] - s
        base = pair_offsets[bi]
        found = 0
        thread = get_thread_id()
        rec = members[s : s + m]
        (l_kinds, l_ids, l_goff, l_gw, l_gs, l_gc, l_soff, l_sw, l_ss, l_sc, l_doff, l_dp,
         l_gbits, l_gpop, l_sbits, l_spop) = gather_fields(fields, rec)  # fmt: skip
        l_sketch = _sketches(l_goff, l_gw, l_gs, l_soff, l_sw, l_ss)
        screen, known, keep = _screen_layout(
            l_doff, l_dp, l_gbits, l_sbits, l_kinds, l_ids, l_sketch
        )
        for x in range(m - 1):
            p = rec[x]
            _screen(x, m, min_points, screen, known, l_gpop, l_spop, keep)
            for y in range(x + 1, m):
                if not keep[y]:
                    continue
                q = rec[y]
                if p == q or group[p] == group[q]:
                    continue
                if ghas[p] and ghas[q] and gtoken[p] != gtoken[q]:
                    continue
                a, d, g, sn, tg, ts = _compare(
                    l_kinds, l_ids, l_goff, l_gw, l_gs, l_gc, l_soff, l_sw, l_ss, l_sc, l_doff,
                    l_dp, l_gbits, l_gpop, l_sbits, l_spop, x, y,
                )  # fmt: skip
                if a != 2 and evidence_points(d, g, sn) < min_points:
                    continue
                i = min(p, q)
                j = max(p, q)
                shared = first_shared_block(rec_offsets, rec_blocks, i, j)
                if shared != NO_SHARED_BLOCK and shared < b:
                    continue
                code = pattern_code(a, d, g, sn)
                if not scoring:
                    hist[thread, code] += 1
                    continue
                w = weights[code] + name_tf(tg, ts, tf_const)
                if w < bar:
                    continue
                out_left[base + found] = i
                out_right[base + found] = j
                out_weight[base + found] = w
                out_code[base + found] = code
                found += 1
        out_found[bi] = found
        out_compared[bi] = m * (m - 1) // 2
