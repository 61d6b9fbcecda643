"""Numba kernels of the linkage core: pure functions over NumPy arrays and scalars.

No objects, exceptions, logging or I/O: the public wrappers in ``linkage``, ``blocking`` and
``clustering`` validate dtypes, shapes and limits first. Every kernel has a plain-Python twin
with the same name, signature and contract in ``_reference``; ``tests/test_kernels.py``
compares the two with hypothesis. Bit matrices are ``uint64[n, words]`` (a packed Bloom
encoding per row); record indices are ``int64``; tokens are ``uint64``.

Union-find state is three arrays indexed by record: ``parent`` (roots point to themselves),
``ctoken`` and ``chas`` (``[n, slots]``: per kind of identity number, the token of the component
rooted there and whether it has one). A union that would put two different identity tokens of
one kind in one component is refused.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange, types
from numba.extending import intrinsic

from matcher._numba_config import JIT, JIT_PARALLEL
from matcher.kernels.simd import LANES, _lanes_and_count, _lanes_get, _lanes_hits, _lanes_zero

#: Returned by :func:`first_shared_block` when two records share no listed block.
NO_SHARED_BLOCK = np.iinfo(np.int64).max

if numba.config.DISABLE_JIT:  # pragma: no cover - coverage runs of the kernel bodies

    def popcount64(x: int) -> int:
        """Number of set bits in a 64-bit word (pure-Python path when the JIT is off)."""
        return int(x).bit_count()

    def splitmix64(x: int | np.uint64) -> np.uint64:
        """SplitMix64 on Python ints (NumPy scalars would warn on the intended wrap-around)."""
        mask = (1 << 64) - 1
        z = (int(x) + 0x9E3779B97F4A7C15) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return np.uint64(z ^ (z >> 31))

    def fnv1a_step(h: int | np.uint64, byte: int) -> np.uint64:
        """One FNV-1a step on Python ints."""
        return np.uint64(((int(h) ^ int(byte)) * 0x100000001B3) & ((1 << 64) - 1))

else:

    @numba.njit(inline="always", **JIT)
    def fnv1a_step(h: int | np.uint64, byte: int) -> np.uint64:
        """One FNV-1a step: xor the byte in, multiply by the 64-bit FNV prime."""
        return (h ^ np.uint64(byte)) * np.uint64(0x100000001B3)

    @numba.njit(inline="always", **JIT)
    def splitmix64(x: int | np.uint64) -> np.uint64:
        """One step of the SplitMix64 mixer (deterministic bit positions for the LSH keys)."""
        z = np.uint64(x) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    @intrinsic
    def _ctpop_u64(typingctx, x):  # type: ignore[no-untyped-def]
        """Emit LLVM ``ctpop`` on a 64-bit word (one ``popcnt``, or vectorised AVX-512 code)."""
        sig = types.int64(types.uint64)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            return builder.ctpop(args[0])

        return sig, codegen

    @numba.njit(inline="always", **JIT)
    def popcount64(x: int) -> int:
        """Number of set bits in a 64-bit word."""
        return _ctpop_u64(x)


@numba.njit(**JIT_PARALLEL)
def popcount_rows(bits: np.ndarray) -> np.ndarray:
    """Set bits per row of a packed bit matrix: ``uint64[n, w] -> int64[n]``."""
    n, w = bits.shape
    out = np.zeros(n, np.int64)
    for i in prange(n):
        c = 0
        for k in range(w):
            c += popcount64(bits[i, k])
        out[i] = c
    return out


@numba.njit(inline="always", **JIT)
def _and_count(bits: np.ndarray, i: int, j: int) -> int:
    """Set bits in the AND of rows ``i`` and ``j``."""
    c = 0
    for k in range(bits.shape[1]):
        c += popcount64(bits[i, k] & bits[j, k])
    return c


@numba.njit(inline="always", **JIT)
def _dice(inter: int, ci: int, cj: int) -> float:
    """Dice coefficient from the AND count and the two row counts; 0.0 for two empty rows."""
    total = ci + cj
    if total == 0:
        return 0.0
    return 2.0 * inter / total


@numba.njit(**JIT_PARALLEL)
def dice_pairs(
    bits: np.ndarray, counts: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Dice coefficient of rows ``left[p]`` and ``right[p]`` for every pair ``p``."""
    p = left.size
    out = np.empty(p, np.float64)
    for t in prange(p):
        i = left[t]
        j = right[t]
        out[t] = _dice(_and_count(bits, i, j), counts[i], counts[j])
    return out


@numba.njit(**JIT)
def _radix_pass(
    keys: np.ndarray,
    owners: np.ndarray,
    digits: np.ndarray,
    tmp_keys: np.ndarray,
    tmp_owners: np.ndarray,
    shift: int,
) -> None:
    """One stable counting-sort pass of (keys, owners) on ``digits >> shift & 255``."""
    count = np.zeros(256, np.int64)
    sh = np.uint64(shift)
    for x in range(keys.size):
        count[np.int64((digits[x] >> sh) & np.uint64(255))] += 1
    total = 0
    for d in range(256):
        c = count[d]
        count[d] = total
        total += c
    for x in range(keys.size):
        digit = np.int64((digits[x] >> sh) & np.uint64(255))
        tmp_keys[count[digit]] = keys[x]
        tmp_owners[count[digit]] = owners[x]
        count[digit] += 1


@numba.njit(**JIT)
def _sort_bucket(keys: np.ndarray, owners: np.ndarray, low: int, bits: int) -> None:
    """Sort one bucket in place by (key, owner): insertion sort when tiny, else LSD radix
    (owner digits first when owners are not already ascending, then the low ``bits`` of
    ``key - low``; every pass is stable)."""
    m = keys.size
    if m <= 32:
        for u in range(1, m):
            k = keys[u]
            o = owners[u]
            z = u - 1
            while z >= 0 and (keys[z] > k or (keys[z] == k and owners[z] > o)):
                keys[z + 1] = keys[z]
                owners[z + 1] = owners[z]
                z -= 1
            keys[z + 1] = k
            owners[z + 1] = o
        return
    tmp_keys = np.empty(m, np.uint64)
    tmp_owners = np.empty(m, np.int64)
    ascending = True
    top = 0
    for x in range(m):
        top = max(top, owners[x])
        if x and owners[x] < owners[x - 1]:
            ascending = False
    if not ascending:
        shift = 0
        digits = owners.astype(np.uint64)
        while shift < 64 and (np.uint64(top) >> np.uint64(shift)) > 0:
            _radix_pass(keys, owners, digits, tmp_keys, tmp_owners, shift)
            keys[:] = tmp_keys
            owners[:] = tmp_owners
            digits = owners.astype(np.uint64)
            shift += 8
    shift = 0
    while shift < bits:
        digits = keys - np.uint64(low)
        _radix_pass(keys, owners, digits, tmp_keys, tmp_owners, shift)
        keys[:] = tmp_keys
        owners[:] = tmp_owners
        shift += 8


@numba.njit(**JIT_PARALLEL)
def sort_tokens(tokens: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort (token, owner) pairs by token, then owner (owners are non-negative).

    A counting pass on the top bits of ``token - min`` spreads the pairs over up to 2**16
    buckets (keyed tokens are uniform, so a few thousand pairs each); each bucket is then
    sorted in cache by a stable LSD radix sort on the remaining bits, buckets in parallel.
    """
    m = tokens.size
    out_t = np.empty(m, np.uint64)
    out_o = np.empty(m, np.int64)
    if m == 0:
        return out_t, out_o
    low = tokens.min()
    span = tokens.max() - low
    width = 0
    while width < 64 and (span >> np.uint64(width)) > 0:
        width += 1
    nb = 0
    while (1 << nb) * 4096 < m and nb < 16 and nb < width:
        nb += 1
    shift = np.uint64(width - nb) if width > nb else np.uint64(0)
    nbuckets = 1 << nb
    starts = np.zeros(nbuckets + 1, np.int64)
    for i in range(m):
        b = np.int64((tokens[i] - low) >> shift) if nb > 0 else 0
        starts[b + 1] += 1
    for b in range(nbuckets):
        starts[b + 1] += starts[b]
    fill = starts[:-1].copy()
    for i in range(m):
        b = np.int64((tokens[i] - low) >> shift) if nb > 0 else 0
        out_t[fill[b]] = tokens[i]
        out_o[fill[b]] = owners[i]
        fill[b] += 1
    rest = width - nb if width > nb else 0
    for b in prange(nbuckets):
        s = starts[b]
        e = starts[b + 1]
        if e - s > 1:
            _sort_bucket(out_t[s:e], out_o[s:e], low, rest)
    return out_t, out_o


@numba.njit(inline="always", **JIT)
def _find(parent: np.ndarray, x: int) -> int:
    """Root of ``x``, halving the path on the way."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(inline="always", **JIT)
def _union(parent: np.ndarray, ctoken: np.ndarray, chas: np.ndarray, a: int, b: int) -> int:
    """Join the components of ``a`` and ``b``: 0 already one, 1 joined, 2 refused (id conflict).

    ``ctoken``/``chas`` are ``[n, slots]``: one identity token per kind of number (personnummer,
    samordningsnummer); two components conflict when they hold different tokens in one slot.
    """
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra == rb:
        return 0
    slots = ctoken.shape[1]
    for k in range(slots):
        if chas[ra, k] and chas[rb, k] and ctoken[ra, k] != ctoken[rb, k]:
            return 2
    if rb < ra:
        ra, rb = rb, ra
    parent[rb] = ra
    for k in range(slots):
        if chas[rb, k] and not chas[ra, k]:
            chas[ra, k] = True
            ctoken[ra, k] = ctoken[rb, k]
    return 1


@numba.njit(**JIT)
def union_runs(
    tokens: np.ndarray, owners: np.ndarray, parent: np.ndarray, ctoken: np.ndarray, chas: np.ndarray
) -> tuple[int, int]:
    """Link the owners of equal tokens (input sorted by token, then owner) to the run's first owner.

    Returns (unions made, unions refused by the identity-number rule); updates the state in place.
    """
    m = tokens.size
    made = 0
    refused = 0
    i = 0
    while i < m:
        j = i + 1
        while j < m and tokens[j] == tokens[i]:
            r = _union(parent, ctoken, chas, owners[i], owners[j])
            if r == 1:
                made += 1
            elif r == 2:
                refused += 1
            j += 1
        i = j
    return made, refused


@numba.njit(**JIT)
def union_pairs(
    left: np.ndarray, right: np.ndarray, parent: np.ndarray, ctoken: np.ndarray, chas: np.ndarray
) -> tuple[int, int]:
    """Link ``left[p]`` with ``right[p]`` in the given order (strongest first).

    Returns (unions made, unions refused by the identity-number rule); updates the state in place.
    """
    made = 0
    refused = 0
    for p in range(left.size):
        r = _union(parent, ctoken, chas, left[p], right[p])
        if r == 1:
            made += 1
        elif r == 2:
            refused += 1
    return made, refused


@numba.njit(**JIT)
def find_roots(parent: np.ndarray) -> np.ndarray:
    """Root of every record (compresses ``parent`` fully as a side effect)."""
    n = parent.size
    roots = np.empty(n, np.int64)
    for i in range(n):
        r = _find(parent, i)
        parent[i] = r
        roots[i] = r
    return roots


@numba.njit(inline="always", **JIT)
def first_shared_block(offsets: np.ndarray, blocks: np.ndarray, i: int, j: int) -> int:
    """Smallest block listed for both records (lists sorted ascending), or NO_SHARED_BLOCK."""
    x = offsets[i]
    xe = offsets[i + 1]
    y = offsets[j]
    ye = offsets[j + 1]
    while x < xe and y < ye:
        if blocks[x] == blocks[y]:
            return blocks[x]
        if blocks[x] < blocks[y]:
            x += 1
        else:
            y += 1
    return NO_SHARED_BLOCK


@numba.njit(**JIT_PARALLEL)
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

    Block ``b`` holds ``members[starts[b]:starts[b + 1]]``. No match is kept between copies of
    one record, between records that are one component already (``group``), or between
    records whose components carry different identity tokens (``gtoken``/``ghas``: they can
    never be joined). A match ``(i < j)`` is kept only in the first listed block the two share
    (``rec_offsets``/``rec_blocks``), so it is reported once. Block ``b`` writes its matches
    from ``pair_offsets[b - b_lo]`` on, their number to ``out_found[b - b_lo]`` and the number
    of pairs it compared, ``m * (m - 1) / 2``, to ``out_compared``.

    Each block copies its rows into panels of ``LANES`` records, word-major inside a panel
    (``local[panel, word, lane]``, 1 KB per panel of 1024-bit rows: contiguous, so the loads
    stay in L1 whatever the block size, with no 4 KB aliasing between words). For one record,
    two panels of later records are compared per pass, each as one ``<8 x i64>`` value
    (AVX-512 ``vpopcntq`` on a ``zmm`` register; each broadcast word of the record feeds both),
    and the cheap float test runs on eight lanes in one vector compare; only lanes that pass
    get the exact Dice and the checks.
    """
    words = bits.shape[1]
    low = threshold * (1.0 - 1e-9)  # never rejects a pair whose exact Dice reaches threshold
    for bi in prange(b_hi - b_lo):
        b = b_lo + bi
        s = starts[b]
        m = starts[b + 1] - s
        rec = members[s : s + m]
        panels = (m + LANES - 1) // LANES
        local = np.zeros((panels, words, LANES), np.uint64)
        lcount = np.zeros((panels, LANES), np.int64)
        learlier = np.empty(m, np.bool_)
        for x in range(m):
            r = rec[x]
            for k in range(words):
                local[x // LANES, k, x % LANES] = bits[r, k]
            lcount[x // LANES, x % LANES] = counts[r]
            # lists are ascending: the first is the record's smallest listed block
            learlier[x] = rec_offsets[r + 1] > rec_offsets[r] and rec_blocks[rec_offsets[r]] < b
        base = pair_offsets[bi]
        found = 0
        for x in range(m - 1):
            px = x // LANES
            lx = x % LANES
            cx = lcount[px, lx]
            p = rec[x]
            pn0 = px
            while pn0 < panels:
                # two panels per pass share each broadcast word of x; the last may be alone
                two = pn0 + 1 < panels
                acc0 = _lanes_zero()
                acc1 = _lanes_zero()
                if two:
                    for k in range(words):
                        word = local[px, k, lx]
                        acc0 = _lanes_and_count(acc0, local, (pn0, k), word)
                        acc1 = _lanes_and_count(acc1, local, (pn0 + 1, k), word)
                else:
                    for k in range(words):
                        acc0 = _lanes_and_count(acc0, local, (pn0, k), local[px, k, lx])
                hits = _lanes_hits(acc0, lcount, pn0, cx, low)
                if two:
                    hits |= _lanes_hits(acc1, lcount, pn0 + 1, cx, low) << LANES
                while hits:
                    t = _lowest_bit(hits)
                    hits &= hits - 1
                    pn = pn0 + t // LANES
                    acc = acc0 if t < LANES else acc1
                    t = t % LANES
                    y = pn * LANES + t
                    if y <= x or y >= m:
                        continue
                    cy = lcount[pn, t]
                    d = _dice(_lanes_get(acc, t), cx, cy)
                    if d < threshold:
                        continue
                    q = rec[y]
                    if p == q or group[p] == group[q]:
                        continue
                    if ghas[p] and ghas[q] and gtoken[p] != gtoken[q]:
                        continue
                    i = min(p, q)
                    j = max(p, q)
                    # a shared block before b needs both records to list a block before b
                    if (
                        learlier[x]
                        and learlier[y]
                        and first_shared_block(rec_offsets, rec_blocks, i, j) < b
                    ):
                        continue
                    out_left[base + found] = i
                    out_right[base + found] = j
                    out_dice[base + found] = d
                    found += 1
                pn0 += 2
        out_found[bi] = found
        out_compared[bi] = m * (m - 1) // 2


@numba.njit(inline="always", **JIT)
def _lowest_bit(mask: int) -> int:
    """Index of the lowest set bit of a non-zero mask."""
    t = 0
    while not (mask >> t) & 1:
        t += 1
    return t


@numba.njit(**JIT)
def tile_count(m: int, tile: int) -> int:
    """Number of half-overlapping tiles of length ``tile`` that cover ``m`` sorted records."""
    if m <= tile:
        return 1
    step = tile // 2
    return 1 + (m - tile + step - 1) // step


@numba.njit(**JIT_PARALLEL)
def split_oversize(
    members: np.ndarray, bits: np.ndarray, nbits: int, passes: int, tile: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one oversize block into small tiles by sorted neighbourhood over bit-sampling keys.

    For each pass, every member gets a 64-bit key made of 64 encoding bits at positions drawn
    from SplitMix64 of the seed and the pass; members are sorted by key (ties by input order)
    and cut into tiles of ``tile`` records overlapping by half, so records within ``tile // 2``
    places of each other in some pass share a tile. Similar encodings agree on most sampled bits
    and sort close together. The cost is ``passes * tile`` comparisons per record, whatever the
    block size. Returns (tile members, tile starts).
    """
    m = members.size
    step = tile // 2
    nt = tile_count(m, tile)
    per_pass = 0
    for t in range(nt):
        per_pass += min(t * step + tile, m) - t * step
    out = np.empty(per_pass * passes, np.int64)
    starts = np.empty(nt * passes + 1, np.int64)
    starts[nt * passes] = per_pass * passes
    for ps in prange(passes):
        _tile_pass(members, bits, nbits, ps, tile, seed, out, starts, 0)
    return out, starts


@numba.njit(**JIT)
def _tile_pass(
    members: np.ndarray,
    bits: np.ndarray,
    nbits: int,
    ps: int,
    tile: int,
    seed: int,
    out: np.ndarray,
    starts: np.ndarray,
    shift: int,
) -> None:
    """Pass ``ps`` of :func:`split_oversize` for one block: its tiles into ``out`` (the block's
    output, pass after pass) and their starts, offset by ``shift``, into ``starts``."""
    m = members.size
    step = tile // 2
    nt = tile_count(m, tile)
    pos = np.empty(64, np.int64)
    for s in range(64):
        h = splitmix64(splitmix64(np.uint64(seed)) ^ np.uint64(ps * 64 + s))
        pos[s] = np.int64(h % np.uint64(nbits))
    keys = np.zeros(m, np.uint64)
    for x in range(m):
        r = members[x]
        key = np.uint64(0)
        for s in range(64):
            word = bits[r, pos[s] >> 6]
            bit = (word >> np.uint64(pos[s] & 63)) & np.uint64(1)
            key = (key << np.uint64(1)) | bit
        keys[x] = key
    order = np.argsort(keys, kind="mergesort")
    o = 0
    for t in range(nt):
        o += min(t * step + tile, m) - t * step
    o *= ps  # earlier passes fill the output before this one
    for t in range(nt):
        st = t * step
        starts[ps * nt + t] = shift + o
        for x in range(st, min(st + tile, m)):
            out[o] = members[order[x]]
            o += 1


@numba.njit(**JIT_PARALLEL)
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
    """:func:`split_oversize` of every block ``owners[bounds[b]:bounds[b + 1]]`` for ``b`` in
    ``blocks``, in one call (blocks in parallel): the blocks' tiles one after the other, tile
    starts counted from 0 and closed by the total. Thousands of oversize blocks (national lists,
    where most birth dates pass ``max_block``) no longer cost a Python call each."""
    nb = blocks.size
    size = np.zeros(nb + 1, np.int64)
    tiles = np.zeros(nb + 1, np.int64)
    step = tile // 2
    for i in range(nb):
        m = bounds[blocks[i] + 1] - bounds[blocks[i]]
        nt = tile_count(m, tile)
        per_pass = 0
        for t in range(nt):
            per_pass += min(t * step + tile, m) - t * step
        size[i + 1] = size[i] + per_pass * passes
        tiles[i + 1] = tiles[i] + nt * passes
    out = np.empty(size[nb], np.int64)
    starts = np.empty(tiles[nb] + 1, np.int64)
    starts[tiles[nb]] = size[nb]
    for i in prange(nb):
        b = blocks[i]
        for ps in range(passes):
            _tile_pass(
                owners[bounds[b] : bounds[b + 1]], bits, nbits, ps, tile, seed,
                out[size[i] : size[i + 1]], starts[tiles[i] : tiles[i + 1]], size[i],
            )  # fmt: skip
    return out, starts


@numba.njit(**JIT)
def dense_labels(roots: np.ndarray) -> np.ndarray:
    """Labels ``0..c-1`` numbered by first appearance, from each record's root (``roots[i] <= i``
    as union-find keeps the smallest index as root)."""
    n = roots.size
    labels = np.empty(n, np.int64)
    nxt = 0
    for i in range(n):
        r = roots[i]
        if r == i:
            labels[i] = nxt
            nxt += 1
        else:
            labels[i] = labels[r]
    return labels


@numba.njit(**JIT)
def cluster_agencies(
    labels: np.ndarray,
    agencies: np.ndarray,
    counted: np.ndarray,
    ref_hash: np.ndarray,
    n_clusters: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster: distinct agencies among counted records, and the smallest counted ref hash.

    ``agencies`` are small integer codes in non-decreasing order (records grouped by agency).
    """
    n_agencies = np.zeros(n_clusters, np.int64)
    min_hash = np.full(n_clusters, np.iinfo(np.uint64).max, np.uint64)
    last = np.full(n_clusters, -1, np.int64)
    for i in range(labels.size):
        if not counted[i]:
            continue
        c = labels[i]
        if last[c] != agencies[i]:
            last[c] = agencies[i]
            n_agencies[c] += 1
        if ref_hash[i] < min_hash[c]:
            min_hash[c] = ref_hash[i]
    return n_agencies, min_hash


@numba.njit(**JIT)
def group_rows(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """Indices of rows with ``keys >= 0`` ordered by key, then index (a stable counting sort)."""
    starts = np.zeros(n_keys + 1, np.int64)
    for i in range(keys.size):
        if keys[i] >= 0:
            starts[keys[i] + 1] += 1
    for c in range(n_keys):
        starts[c + 1] += starts[c]
    out = np.empty(starts[n_keys], np.int64)
    for i in range(keys.size):
        if keys[i] >= 0:
            out[starts[keys[i]]] = i
            starts[keys[i]] += 1
    return out


@numba.njit(**JIT)
def hash_strings(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """64-bit FNV-1a of each string ``data[offsets[i]:offsets[i + 1]]`` (UTF-8 bytes).

    A fixed, documented hash: case numbering built on it never changes between versions.
    """
    n = offsets.size - 1
    out = np.empty(n, np.uint64)
    for i in range(n):
        h = np.uint64(0xCBF29CE484222325)
        for x in range(offsets[i], offsets[i + 1]):
            h = fnv1a_step(h, data[x])
        out[i] = h
    return out
