"""Plain-Python twins of the kernels in ``_kernels``: same names, signatures and contracts.

Written for obviousness, not speed: loops over Python ints, dicts and sorted lists. The tests
compare every kernel with its twin on small random inputs; nothing in the product calls these.
"""

from __future__ import annotations

import numpy as np

NO_SHARED_BLOCK = np.iinfo(np.int64).max
_MASK = (1 << 64) - 1


def popcount64(x: int) -> int:
    """Number of set bits in a 64-bit word."""
    return (int(x) & _MASK).bit_count()


def popcount_rows(bits: np.ndarray) -> np.ndarray:
    """Set bits per row of a packed bit matrix: ``uint64[n, w] -> int64[n]``."""
    return np.array([sum(popcount64(v) for v in row) for row in bits.tolist()], dtype=np.int64)


def _dice(inter: int, ci: int, cj: int) -> float:
    total = ci + cj
    return 0.0 if total == 0 else 2.0 * inter / total


def _and_count(rows: list[list[int]], i: int, j: int) -> int:
    return sum(popcount64(a & b) for a, b in zip(rows[i], rows[j], strict=True))


def dice_pairs(
    bits: np.ndarray, counts: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Dice coefficient of rows ``left[p]`` and ``right[p]`` for every pair ``p``."""
    rows = bits.tolist()
    c = counts.tolist()
    return np.array(
        [
            _dice(_and_count(rows, i, j), c[i], c[j])
            for i, j in zip(left.tolist(), right.tolist(), strict=True)
        ],
        dtype=np.float64,
    )


def sort_tokens(tokens: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort (token, owner) pairs by token, then owner."""
    pairs = sorted(zip(tokens.tolist(), owners.tolist(), strict=True))
    return (
        np.array([t for t, _ in pairs], dtype=np.uint64),
        np.array([o for _, o in pairs], dtype=np.int64),
    )


def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        x = int(parent[x])
    return x


def _union(parent: np.ndarray, ctoken: np.ndarray, chas: np.ndarray, a: int, b: int) -> int:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra == rb:
        return 0
    slots = range(ctoken.shape[1])
    if any(chas[ra, k] and chas[rb, k] and ctoken[ra, k] != ctoken[rb, k] for k in slots):
        return 2
    ra, rb = min(ra, rb), max(ra, rb)
    parent[rb] = ra
    for k in slots:
        if chas[rb, k] and not chas[ra, k]:
            chas[ra, k] = True
            ctoken[ra, k] = ctoken[rb, k]
    return 1


def _tally(results: list[int]) -> tuple[int, int]:
    return results.count(1), results.count(2)


def union_runs(
    tokens: np.ndarray, owners: np.ndarray, parent: np.ndarray, ctoken: np.ndarray, chas: np.ndarray
) -> tuple[int, int]:
    """Link the owners of equal tokens (input sorted by token, then owner) to the run's first owner.

    Returns (unions made, unions refused by the identity-number rule); updates the state in place.
    """
    runs: dict[int, list[int]] = {}
    for t, o in zip(tokens.tolist(), owners.tolist(), strict=True):
        runs.setdefault(t, []).append(o)
    results = [
        _union(parent, ctoken, chas, run[0], other)
        for t in sorted(runs)
        for run in [runs[t]]
        for other in run[1:]
    ]
    return _tally(results)


def union_pairs(
    left: np.ndarray, right: np.ndarray, parent: np.ndarray, ctoken: np.ndarray, chas: np.ndarray
) -> tuple[int, int]:
    """Link ``left[p]`` with ``right[p]`` in the given order (strongest first).

    Returns (unions made, unions refused by the identity-number rule); updates the state in place.
    """
    results = [
        _union(parent, ctoken, chas, a, b)
        for a, b in zip(left.tolist(), right.tolist(), strict=True)
    ]
    return _tally(results)


def find_roots(parent: np.ndarray) -> np.ndarray:
    """Root of every record (compresses ``parent`` fully as a side effect)."""
    roots = np.array([_find(parent, i) for i in range(parent.size)], dtype=np.int64)
    parent[:] = roots
    return roots


def first_shared_block(offsets: np.ndarray, blocks: np.ndarray, i: int, j: int) -> int:
    """Smallest block listed for both records, or NO_SHARED_BLOCK."""
    a = set(blocks[offsets[i] : offsets[i + 1]].tolist())
    b = set(blocks[offsets[j] : offsets[j + 1]].tolist())
    return min(a & b, default=int(NO_SHARED_BLOCK))


def block_pair_dice(
    members: np.ndarray,
    starts: np.ndarray,
    b_lo: int,
    b_hi: int,
    pair_offsets: np.ndarray,
    rec_offsets: np.ndarray,
    rec_blocks: np.ndarray,
    bits: np.ndarray,
    counts: np.ndarray,
    group: np.ndarray,
    gtoken: np.ndarray,
    ghas: np.ndarray,
    threshold: float,
    out_left: np.ndarray,
    out_right: np.ndarray,
    out_dice: np.ndarray,
    out_found: np.ndarray,
    out_compared: np.ndarray,
) -> None:
    """Compare every pair inside blocks ``b_lo..b_hi`` and keep those with Dice >= threshold.

    Same skipping rules and output layout as the kernel (see ``_kernels.block_pair_dice``).
    """
    rows = bits.tolist()
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
                d = _dice(_and_count(rows, i, j), int(counts[i]), int(counts[j]))
                if d >= threshold and first_shared_block(rec_offsets, rec_blocks, i, j) >= b:
                    out_left[base + found] = i
                    out_right[base + found] = j
                    out_dice[base + found] = d
                    found += 1
        out_found[b - b_lo] = found
        out_compared[b - b_lo] = compared


def splitmix64(x: int) -> int:
    """One step of the SplitMix64 mixer."""
    z = (int(x) + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def tile_count(m: int, tile: int) -> int:
    """Number of half-overlapping tiles of length ``tile`` that cover ``m`` sorted records."""
    count, step = 1, tile // 2
    while (count - 1) * step + tile < m:
        count += 1
    return count


def split_oversize(
    members: np.ndarray, bits: np.ndarray, nbits: int, passes: int, tile: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one oversize block into small tiles by sorted neighbourhood over bit-sampling keys."""
    rows = bits.tolist()
    step = tile // 2
    out: list[int] = []
    starts: list[int] = []
    for ps in range(passes):
        positions = [splitmix64(splitmix64(seed) ^ (ps * 64 + s)) % nbits for s in range(64)]

        def key(r: int, positions: list[int] = positions) -> int:
            return int("".join(str((rows[r][p // 64] >> (p % 64)) & 1) for p in positions), 2)

        ordered = sorted(members.tolist(), key=key)  # sorted() is stable: ties keep input order
        for t in range(tile_count(len(ordered), tile)):
            starts.append(len(out))
            out.extend(ordered[t * step : t * step + tile])
    starts.append(len(out))
    return np.array(out, dtype=np.int64), np.array(starts, dtype=np.int64)


def split_oversize_blocks(
    owners: np.ndarray,
    bounds: np.ndarray,
    blocks: np.ndarray,
    bits: np.ndarray,
    nbits: int,
    passes: int,
    tile: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``split_oversize`` of each listed block, tiles one block after the other."""
    out: list[int] = []
    starts: list[int] = []
    for b in blocks.tolist():
        got, tile_starts = split_oversize(
            owners[bounds[b] : bounds[b + 1]], bits, nbits, passes, tile, seed
        )
        starts.extend((tile_starts[:-1] + len(out)).tolist())
        out.extend(got.tolist())
    starts.append(len(out))
    return np.array(out, dtype=np.int64), np.array(starts, dtype=np.int64)


def dense_labels(roots: np.ndarray) -> np.ndarray:
    """Labels ``0..c-1`` numbered by first appearance, from each record's root."""
    seen: dict[int, int] = {}
    return np.array([seen.setdefault(r, len(seen)) for r in roots.tolist()], dtype=np.int64)


def cluster_agencies(
    labels: np.ndarray,
    agencies: np.ndarray,
    counted: np.ndarray,
    ref_hash: np.ndarray,
    n_clusters: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster: distinct agencies among counted records, and the smallest counted ref hash."""
    found: dict[int, set[int]] = {}
    smallest: dict[int, int] = {}
    for c, a, keep, h in zip(
        labels.tolist(), agencies.tolist(), counted.tolist(), ref_hash.tolist(), strict=True
    ):
        if keep:
            found.setdefault(c, set()).add(a)
            smallest[c] = min(smallest.get(c, h), h)
    return (
        np.array([len(found.get(c, ())) for c in range(n_clusters)], dtype=np.int64),
        np.array([smallest.get(c, 2**64 - 1) for c in range(n_clusters)], dtype=np.uint64),
    )


def group_rows(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """Indices of rows with ``keys >= 0`` ordered by key, then index."""
    return np.array(
        sorted((i for i, k in enumerate(keys.tolist()) if k >= 0), key=lambda i: (keys[i], i)),
        dtype=np.int64,
    )


def hash_strings(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """64-bit FNV-1a of each string ``data[offsets[i]:offsets[i + 1]]`` (UTF-8 bytes)."""
    out = []
    for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
        h = 0xCBF29CE484222325
        for byte in data[start:end].tolist():
            h = ((h ^ byte) * 0x100000001B3) & _MASK
        out.append(h)
    return np.array(out, dtype=np.uint64)
