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
from numba import njit, prange

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


@njit(inline="always", **JIT)
def _shared(off: np.ndarray, values: np.ndarray, i: int, off2: np.ndarray, values2: np.ndarray, j: int) -> bool:
    for x in range(off[i], off[i + 1]):
        for y in range(off2[j], off2[j + 1]):
            if values[x] == values2[y]:
                return True
    return False


@njit(inline="always", **JIT)
def _dice(bits: np.ndarray, pop: np.ndarray, i: int, j: int) -> float:
    total = pop[i] + pop[j]
    if total == 0:
        return 0.0
    inter = 0
    for k in range(bits.shape[1]):
        inter += popcount64(bits[i, k] & bits[j, k])
    return 2.0 * inter / total


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
    among the agreeing names (the rarest shared name, for the term-frequency adjustment)."""
    if off[i] == off[i + 1] or off[j] == off[j + 1]:
        return 0, NO_TF
    rarest = -1
    for x in range(off[i], off[i + 1]):
        for y in range(off[j], off[j + 1]):
            if words[x] == words[y]:
                c = max(counts[x], counts[y])
                if rarest < 0 or c < rarest:
                    rarest = c
    if rarest >= 0:
        return 1, rarest
    if _shared(off, sounds, i, off, sounds, j):
        return 2, NO_TF
    d = _dice(bits, pop, i, j)
    if d >= SIMILAR:
        return 3, NO_TF
    if d >= SOMEWHAT:
        return 4, NO_TF
    return 5, NO_TF


@njit(**JIT)
def compare_pair(fields: tuple, i: int, j: int) -> tuple[int, int, int, int, int, int]:  # type: ignore[type-arg]
    """Levels (identity, birth date, given name, surname) of records i, j and the tf counts of
    their agreeing given name and surname (NO_TF where none agrees exactly)."""
    (kinds, ids, gw_off, gw, gs, gcnt, sw_off, sw, ss, scnt, dp_off, dp, gbits, gpop, sbits, spop) = fields
    if kinds[i] == 0 or kinds[j] == 0:
        id_level = 0
    elif kinds[i] != kinds[j]:
        id_level = 1
    elif ids[i] == ids[j]:
        id_level = 2
    else:
        id_level = 3
    if dp_off[i] == dp_off[i + 1] or dp_off[j] == dp_off[j + 1]:
        date_level = 0
    else:
        agree = 0
        for k in range(3):
            if dp[dp_off[i] + k] == dp[dp_off[j] + k]:
                agree += 1
        date_level = 1 if agree == 3 else (2 if agree >= 1 else 3)
    given, tf_given = _name_level(gw_off, gw, gs, gcnt, gbits, gpop, i, j)
    surname, tf_surname = _name_level(sw_off, sw, ss, scnt, sbits, spop, i, j)
    if given >= 3 and surname >= 3:
        crossed = (_shared(gw_off, gw, i, sw_off, sw, j) or _shared(gw_off, gs, i, sw_off, ss, j)) and (
            _shared(sw_off, sw, i, gw_off, gw, j) or _shared(sw_off, ss, i, gw_off, gs, j)
        )
        if crossed:
            given, surname = 2, 2
    return id_level, date_level, given, surname, tf_given, tf_surname


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
def pair_patterns(fields: tuple, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[type-arg]
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


@njit(**JIT_PARALLEL)
def block_pair_patterns(
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
    out_left: np.ndarray,
    out_right: np.ndarray,
    out_code: np.ndarray,
    out_tf_given: np.ndarray,
    out_tf_surname: np.ndarray,
    out_found: np.ndarray,
    out_compared: np.ndarray,
) -> None:
    """Compare every pair inside blocks ``b_lo..b_hi`` and keep those with at least
    ``min_points`` of `evidence_points` (or agreeing identity numbers).

    As ``linkage.block_pair_dice``: no pair of one component (``group``) or of components with
    different identity tokens (``gtoken``/``ghas``), each pair only in the first block the two
    share; block ``b`` writes from ``pair_offsets[b - b_lo]`` and counts to ``out_found`` and
    ``out_compared``.
    """
    for bi in prange(b_hi - b_lo):
        b = b_lo + bi
        s = starts[b]
        m = starts[b + 1] - s
        base = pair_offsets[bi]
        found = 0
        for x in range(m - 1):
            p = members[s + x]
            for y in range(x + 1, m):
                q = members[s + y]
                if p == q or group[p] == group[q]:
                    continue
                if ghas[p] and ghas[q] and gtoken[p] != gtoken[q]:
                    continue
                i = min(p, q)
                j = max(p, q)
                shared = first_shared_block(rec_offsets, rec_blocks, i, j)
                if shared != NO_SHARED_BLOCK and shared < b:
                    continue
                a, d, g, sn, tg, ts = compare_pair(fields, i, j)
                if a != 2 and evidence_points(d, g, sn) < min_points:
                    continue
                out_left[base + found] = i
                out_right[base + found] = j
                out_code[base + found] = pattern_code(a, d, g, sn)
                out_tf_given[base + found] = tg
                out_tf_surname[base + found] = ts
                found += 1
        out_found[bi] = found
        out_compared[bi] = m * (m - 1) // 2
