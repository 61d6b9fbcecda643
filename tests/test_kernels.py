"""Every Numba kernel agrees with its plain-Python twin in ``matcher.kernels.linkage_reference``."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from matcher.kernels import linkage as K
from matcher.kernels import linkage_reference as R
from matcher.linkage.blocking import BlockingParams, build_blocks
from matcher.linkage.clustering import partition
from tests.strategies import bit_matrices, token_owner_arrays


@given(bit_matrices())
def test_popcount_rows(bits: np.ndarray) -> None:
    got = K.popcount_rows(bits)
    assert got.dtype == np.int64
    assert got.tolist() == R.popcount_rows(bits).tolist()
    assert got.tolist() == np.bitwise_count(bits).sum(axis=1).tolist()


@given(bit_matrices(max_rows=10), st.data())
def test_dice_pairs(bits: np.ndarray, data: st.DataObject) -> None:
    n = bits.shape[0]
    index = st.integers(0, max(n - 1, 0))
    p = data.draw(st.integers(0, 20)) if n else 0
    left = np.array(data.draw(st.lists(index, min_size=p, max_size=p)), dtype=np.int64)
    right = np.array(data.draw(st.lists(index, min_size=p, max_size=p)), dtype=np.int64)
    counts = K.popcount_rows(bits)
    got = K.dice_pairs(bits, counts, left, right)
    assert got.tolist() == R.dice_pairs(bits, counts, left, right).tolist()
    assert np.all((got >= 0.0) & (got <= 1.0))
    same = left == right
    assert np.all(got[same & (counts[left] > 0)] == 1.0)


@given(token_owner_arrays(max_tokens=3000))
@example((3, np.zeros(0, np.uint64), np.zeros(0, np.int64)))
def test_sort_tokens(case: tuple[int, np.ndarray, np.ndarray]) -> None:
    _, tokens, owners = case
    got_t, got_o = K.sort_tokens(tokens, owners)
    ref_t, ref_o = R.sort_tokens(tokens, owners)
    assert got_t.tolist() == ref_t.tolist()
    assert got_o.tolist() == ref_o.tolist()


def test_sort_tokens_many_buckets() -> None:
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 2**64 - 1, size=50_000, dtype=np.uint64)
    tokens[::7] = tokens[3]  # one large run of equal tokens
    owners = rng.permutation(50_000).astype(np.int64)
    got_t, got_o = K.sort_tokens(tokens, owners)
    order = np.lexsort((owners, tokens))
    assert np.array_equal(got_t, tokens[order])
    assert np.array_equal(got_o, owners[order])


def _state(n: int, ids: list[int | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parent = np.arange(n, dtype=np.int64)
    ctoken = np.array([0 if v is None else v for v in ids], dtype=np.uint64).reshape(n, 1)
    chas = np.array([v is not None for v in ids], dtype=bool).reshape(n, 1)
    return parent, ctoken, chas


def _ids(n: int) -> st.SearchStrategy[list[int | None]]:
    return st.lists(st.none() | st.integers(1, 4), min_size=n, max_size=n)


def _components(parent: np.ndarray, ctoken: np.ndarray, chas: np.ndarray) -> set:
    roots = R.find_roots(parent.copy())
    return {
        (
            frozenset(np.flatnonzero(roots == r).tolist()),
            bool(chas[r, 0]),
            int(ctoken[r, 0]) * chas[r, 0],
        )
        for r in set(roots.tolist())
    }


@given(token_owner_arrays(), st.data())
def test_union_runs_matches_reference(
    case: tuple[int, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    n, tokens, owners = case
    ids = data.draw(_ids(n))
    tokens, owners = R.sort_tokens(tokens, owners)
    got_state, ref_state = _state(n, ids), _state(n, ids)
    got = K.union_runs(tokens, owners, *got_state)
    ref = R.union_runs(tokens, owners, *ref_state)
    assert tuple(got) == ref
    assert _components(*got_state) == _components(*ref_state)


@given(token_owner_arrays(), st.data())
def test_union_pairs_matches_reference(
    case: tuple[int, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    n, _, left = case
    right = np.array(
        data.draw(st.lists(st.integers(0, n - 1), min_size=left.size, max_size=left.size)),
        dtype=np.int64,
    )
    ids = data.draw(_ids(n))
    got_state, ref_state = _state(n, ids), _state(n, ids)
    assert tuple(K.union_pairs(left, right, *got_state)) == R.union_pairs(left, right, *ref_state)
    assert _components(*got_state) == _components(*ref_state)
    # the identity rule: no component holds two different identity tokens
    roots = K.find_roots(got_state[0])
    for r in set(roots.tolist()):
        present = {v for v, root in zip(ids, roots.tolist(), strict=True) if root == r and v}
        assert len(present) <= 1


@given(token_owner_arrays(), st.data())
def test_union_without_ids_is_connected_components(
    case: tuple[int, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    n, _, left = case
    right = np.array(
        data.draw(st.lists(st.integers(0, n - 1), min_size=left.size, max_size=left.size)),
        dtype=np.int64,
    )
    parent, ctoken, chas = _state(n, [None] * n)
    made, refused = K.union_pairs(left, right, parent, ctoken, chas)
    graph = sp.coo_matrix((np.ones(left.size), (left, right)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    assert partition(K.find_roots(parent)) == partition(labels)
    assert (made, refused) == (n - count, 0)


@given(st.lists(st.integers(0, 9), max_size=30), st.data())
def test_find_roots(parents: list[int], data: st.DataObject) -> None:
    n = len(parents)
    parent = np.arange(n, dtype=np.int64)
    for i, p in enumerate(parents):
        if p < i:  # a forest: every pointer goes to a smaller index
            parent[i] = p
    assert K.find_roots(parent.copy()).tolist() == R.find_roots(parent.copy()).tolist()


@given(st.integers(0, 2**64 - 1))
def test_splitmix64(x: int) -> None:
    assert int(K.splitmix64(np.uint64(x))) == R.splitmix64(x)


@given(st.integers(0, 5000), st.integers(2, 600))
def test_tile_count(m: int, tile: int) -> None:
    assert K.tile_count(m, tile) == R.tile_count(m, tile)


@given(
    bit_matrices(max_rows=40, words=2),
    st.integers(1, 4),
    st.integers(2, 12),
    st.integers(0, 2**40),
)
def test_split_oversize(bits: np.ndarray, passes: int, tile: int, seed: int) -> None:
    members = np.arange(bits.shape[0], dtype=np.int64)[::-1].copy()
    got_m, got_s = K.split_oversize(members, bits, 128, passes, tile, seed)
    ref_m, ref_s = R.split_oversize(members, bits, 128, passes, tile, seed)
    assert got_m.tolist() == ref_m.tolist()
    assert got_s.tolist() == ref_s.tolist()
    # every tile is small, and each pass covers every member
    assert np.all(np.diff(got_s) <= tile)
    per_pass = got_m.size // passes if passes else 0
    for ps in range(passes):
        assert set(got_m[ps * per_pass : (ps + 1) * per_pass].tolist()) == set(members.tolist())


@st.composite
def _block_inputs(draw: st.DrawFn) -> dict:
    bits = draw(bit_matrices(max_rows=14, words=2))
    n = bits.shape[0]
    lists = draw(
        st.lists(st.lists(st.integers(0, 4), max_size=3), min_size=n, max_size=n),
    )
    offsets = np.r_[0, np.cumsum([len(x) for x in lists])].astype(np.int64)
    values = np.array([v for x in lists for v in x], dtype=np.uint64)
    eligible = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    ids = draw(_ids(n))
    group = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
    group = np.where(np.arange(n) % 2 == 0, np.arange(n), group)
    max_block = draw(st.integers(2, 6))
    params = BlockingParams(max_block=max_block, tile=4, passes=draw(st.integers(0, 2)))
    blocks = build_blocks(offsets, values, eligible, bits, 128, params)
    return {
        "bits": bits,
        "lists": lists,
        "eligible": eligible,
        "blocks": blocks,
        "params": params,
        "group": group,
        "gtoken": np.array([v or 0 for v in ids], dtype=np.uint64),
        "ghas": np.array([v is not None for v in ids], dtype=bool),
        "threshold": draw(st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0])),
    }


def _run_block_kernel(fn, inp: dict) -> tuple[set, int]:
    blocks = inp["blocks"]
    cap = blocks.pair_capacity()
    offsets = np.r_[0, np.cumsum(cap)[:-1]].astype(np.int64)
    size = int(cap.sum())
    out = (np.full(size, -1, np.int64), np.full(size, -1, np.int64), np.zeros(size))
    found = np.zeros(blocks.count, np.int64)
    seen = np.zeros(blocks.count, np.int64)
    fn(
        blocks.members, blocks.starts, 0, blocks.count, offsets, blocks.rec_offsets,
        blocks.rec_blocks, inp["bits"], K.popcount_rows(inp["bits"]), inp["group"],
        inp["gtoken"], inp["ghas"], inp["threshold"], *out, found, seen,
    )  # fmt: skip
    pairs = set()
    for b in range(blocks.count):
        for x in range(offsets[b], offsets[b] + found[b]):
            pairs.add((int(out[0][x]), int(out[1][x]), float(out[2][x])))
    return pairs, int(seen.sum())


@given(_block_inputs())
def test_block_pair_dice_matches_reference(inp: dict) -> None:
    assert _run_block_kernel(K.block_pair_dice, inp) == _run_block_kernel(R.block_pair_dice, inp)


@given(_block_inputs())
def test_candidate_pairs_are_pairs_sharing_a_block(inp: dict) -> None:
    """With nothing pruned and no oversize block, the pairs found are exactly those that share a
    blocking value (each once); oversize blocks only ever yield pairs that share one."""
    n = inp["bits"].shape[0]
    inp = {
        **inp,
        "group": np.arange(n, dtype=np.int64),
        "ghas": np.zeros(n, dtype=bool),
        "threshold": 0.0,
    }
    pairs, compared = _run_block_kernel(K.block_pair_dice, inp)
    found = {(i, j) for i, j, _ in pairs}
    shared = {
        (i, j): len(set(inp["lists"][i]) & set(inp["lists"][j]))
        for i in range(n)
        for j in range(i + 1, n)
        if inp["eligible"][i] and inp["eligible"][j]
    }
    sharing = {pair for pair, count in shared.items() if count}
    assert found <= sharing
    if inp["blocks"].oversize == 0:
        assert found == sharing  # each reported once, in its first shared block
        assert compared == sum(shared.values())  # compared once per shared block


@given(st.lists(st.integers(0, 9), max_size=30))
def test_dense_labels(parents: list[int]) -> None:
    parent = np.array([min(p, i) for i, p in enumerate(parents)], dtype=np.int64)
    roots = K.find_roots(parent)
    got = K.dense_labels(roots)
    assert got.tolist() == R.dense_labels(roots).tolist()
    assert partition(got) == partition(roots)


@given(st.data(), st.integers(0, 30), st.integers(1, 6))
def test_cluster_agencies(data: st.DataObject, n: int, clusters: int) -> None:
    labels = np.array(data.draw(st.lists(st.integers(0, clusters - 1), min_size=n, max_size=n)))
    agencies = np.sort(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    counted = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    hashes = data.draw(st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n))
    args = (labels.astype(np.int64), agencies.astype(np.int64), counted)
    ref_hash = np.array(hashes, dtype=np.uint64)
    got = K.cluster_agencies(*args, ref_hash, clusters)
    ref = R.cluster_agencies(*args, ref_hash, clusters)
    assert got[0].tolist() == ref[0].tolist()
    assert got[1].tolist() == ref[1].tolist()


@given(st.lists(st.integers(-1, 5), max_size=40))
def test_group_rows(keys: list[int]) -> None:
    arr = np.array(keys, dtype=np.int64)
    assert K.group_rows(arr, 6).tolist() == R.group_rows(arr, 6).tolist()


@given(st.lists(st.text(max_size=12), max_size=20), st.integers(0, 5))
def test_hash_strings(texts: list[str], skip: int) -> None:
    from itertools import pairwise

    import polars as pl

    from matcher._arrow import utf8_buffers

    series = pl.Series(["x"] * skip + texts, dtype=pl.Utf8).slice(skip)  # a sliced buffer too
    data, offsets = utf8_buffers(series)
    got = K.hash_strings(data, offsets)
    assert got.tolist() == R.hash_strings(data, offsets).tolist()
    assert [bytes(data[a:b]).decode() for a, b in pairwise(offsets)] == texts


def test_hash_strings_is_fnv1a() -> None:
    data = np.frombuffer(b"a", np.uint8)
    got = K.hash_strings(np.r_[data, data], np.array([0, 0, 1], np.int64))
    assert got.tolist() == [0xCBF29CE484222325, 0xAF63DC4C8601EC8C]  # published test vectors


@given(
    bit_matrices(max_rows=30, words=2),
    st.lists(st.integers(0, 12), min_size=1, max_size=5),
    st.integers(0, 3),
    st.integers(2, 12),
    st.integers(0, 2**40),
)
def test_split_oversize_blocks(
    bits: np.ndarray, cuts: list[int], passes: int, tile: int, seed: int
) -> None:
    """All oversize blocks in one call: the twin's result, and the blocks one by one joined."""
    n = bits.shape[0]
    owners = np.arange(n, dtype=np.int64)[::-1].copy()
    bounds = np.unique(np.clip(np.array([0, *cuts, n], dtype=np.int64), 0, n))
    blocks = np.flatnonzero(np.diff(bounds) > 0)[::-1].astype(np.int64)  # any order
    got_m, got_s = K.split_oversize_blocks(owners, bounds, blocks, bits, 128, passes, tile, seed)
    ref_m, ref_s = R.split_oversize_blocks(owners, bounds, blocks, bits, 128, passes, tile, seed)
    assert got_m.tolist() == ref_m.tolist()
    assert got_s.tolist() == ref_s.tolist()
    parts = [
        K.split_oversize(owners[bounds[b] : bounds[b + 1]], bits, 128, passes, tile, seed)
        for b in blocks.tolist()
    ]
    assert got_m.tolist() == [r for m, _ in parts for r in m.tolist()]


@given(token_owner_arrays(), st.data())
def test_union_pairs_two_kinds_matches_reference(
    case: tuple[int, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    """With one slot per kind of number, a component holds at most one token of each kind."""
    n, _, left = case
    right = np.array(
        data.draw(st.lists(st.integers(0, n - 1), min_size=left.size, max_size=left.size)),
        dtype=np.int64,
    )
    ids = data.draw(_ids(n))
    kinds = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))

    def state() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ctoken = np.zeros((n, 2), np.uint64)
        chas = np.zeros((n, 2), bool)
        for i, (v, k) in enumerate(zip(ids, kinds, strict=True)):
            if v is not None:
                ctoken[i, k], chas[i, k] = v, True
        return np.arange(n, dtype=np.int64), ctoken, chas

    got_state, ref_state = state(), state()
    assert tuple(K.union_pairs(left, right, *got_state)) == R.union_pairs(left, right, *ref_state)
    assert partition(K.find_roots(got_state[0])) == partition(R.find_roots(ref_state[0]))
    roots = K.find_roots(got_state[0])
    for r in set(roots.tolist()):
        for kind in (0, 1):
            present = {
                v
                for v, k, root in zip(ids, kinds, roots.tolist(), strict=True)
                if root == r and v and k == kind
            }
            assert len(present) <= 1
