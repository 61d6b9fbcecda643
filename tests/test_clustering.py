"""The identity-number rule of clustering holds on adversarial chains of links."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.errors import LinkageError
from matcher.linkage.clustering import Components, partition


def _components(ids: list[int | None]) -> Components:
    tokens = np.array([v or 0 for v in ids], dtype=np.uint64)
    return Components(tokens, np.array([v is not None for v in ids], dtype=bool))


def test_chain_through_a_record_without_number_is_cut() -> None:
    # A (id 1) - B (no id) - C (id 2): B joins A, the link B-C is refused
    comp = _components([1, None, 2])
    assert comp.link_pairs(np.array([0, 1]), np.array([1, 2])).refused == 1
    assert partition(comp.labels()) == {frozenset({0, 1}), frozenset({2})}


def test_same_identity_number_always_joins() -> None:
    comp = _components([7, None, 9, 7])
    comp.link_pairs(np.array([1]), np.array([2]))  # B joins C first (id 9)
    done = comp.link_tokens(np.array([7, 7], dtype=np.uint64), np.array([0, 3]))
    assert (done.made, done.refused) == (1, 0)
    assert comp.link_pairs(np.array([0]), np.array([1])).refused == 1  # A (7) vs B's cluster (9)
    assert partition(comp.labels()) == {frozenset({0, 3}), frozenset({1, 2})}


@given(
    st.lists(st.none() | st.integers(1, 3), min_size=1, max_size=25),
    st.data(),
)
def test_no_cluster_ever_holds_two_identity_numbers(
    ids: list[int | None], data: st.DataObject
) -> None:
    n = len(ids)
    comp = _components(ids)
    index = st.integers(0, n - 1)
    for _ in range(data.draw(st.integers(1, 3))):
        tokens = data.draw(st.lists(st.integers(0, 4), max_size=30))
        owners = data.draw(st.lists(index, min_size=len(tokens), max_size=len(tokens)))
        comp.link_tokens(np.array(tokens, dtype=np.uint64), np.array(owners, dtype=np.int64))
        left = data.draw(st.lists(index, max_size=30))
        right = data.draw(st.lists(index, min_size=len(left), max_size=len(left)))
        comp.link_pairs(np.array(left, dtype=np.int64), np.array(right, dtype=np.int64))
    labels = comp.labels()
    for cluster in partition(labels):
        assert len({ids[i] for i in cluster} - {None}) <= 1
    # labels are dense and numbered by each cluster's first record
    firsts = [min(c) for c in sorted(partition(labels), key=min)]
    assert [labels[f] for f in firsts] == list(range(len(firsts)))
    # the per-record component tokens agree with the members' numbers
    _, token, has = comp.component_tokens()
    for i, v in enumerate(ids):
        if v is not None:
            assert has[i] and token[i] == v


def test_components_refuse_bad_inputs() -> None:
    with pytest.raises(LinkageError):
        Components(np.zeros(3, dtype=np.int64), np.zeros(3, dtype=bool))
    with pytest.raises(LinkageError):
        Components(np.zeros(3, dtype=np.uint64), np.zeros(2, dtype=bool))
    comp = _components([None, None])
    with pytest.raises(LinkageError, match="out of range"):
        comp.link_pairs(np.array([0]), np.array([2]))
    with pytest.raises(LinkageError):
        comp.link_tokens(np.array([1, 2], dtype=np.int64), np.array([0, 1]))
