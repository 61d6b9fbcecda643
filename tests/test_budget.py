"""Memory budget of the fuzzy pass: the setting, chunk plans, distinct matches, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.errors import ConfigError, LinkageError
from matcher.linkage.blocking import BlockingParams, build_blocks
from matcher.linkage.budget import BUDGET_ENV, MIN_BUDGET, MemoryBudget, parse_size, plan_chunk
from matcher.linkage.linkage import fuzzy_matches
from matcher.linkage.matches import MatchSet
from tests.profiles import examples


def test_parse_size() -> None:
    assert parse_size("12G") == 12 << 30
    assert parse_size("500m") == 500 << 20
    assert parse_size("1.5GiB") == int(1.5 * (1 << 30))
    assert parse_size("123456789") == 123456789
    with pytest.raises(ConfigError):
        parse_size("lots")


def test_budget_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUDGET_ENV, "2G")
    assert MemoryBudget.from_environment().limit == 2 << 30
    monkeypatch.delenv(BUDGET_ENV)
    assert MemoryBudget.from_environment().limit >= MIN_BUDGET
    monkeypatch.setenv(BUDGET_ENV, "1K")
    with pytest.raises(ConfigError):
        MemoryBudget.from_environment()


def test_plan_chunk_falls_back_then_refuses() -> None:
    budget = MemoryBudget(64 << 20)
    assert plan_chunk(budget, 24, share=0.25, largest=10, preferred=1 << 22, what="x") == (
        (16 << 20) // 24
    )
    assert plan_chunk(budget, 24, share=1.0, largest=10, preferred=100, what="x") == 100
    with pytest.raises(LinkageError, match="memory budget") as err:
        plan_chunk(budget, 24, share=0.25, largest=1 << 20, preferred=100, what="the buffer")
    assert err.value.reason == "memory"


@settings(max_examples=examples(40))
@given(
    st.lists(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=40), max_size=6),
    st.integers(1, 50),
)
def test_match_set_equals_distinct_sorted(
    chunks: list[list[tuple[int, int]]], merge_at: int
) -> None:
    """Chunks with repeated pairs reduce to each pair once, strongest first, then by pair,
    whenever the merges happen."""
    found = MatchSet(31, MemoryBudget(MIN_BUDGET), merge_at=merge_at)
    expected: dict[tuple[int, int], float] = {}
    for chunk in chunks:
        pairs = [(min(a, b), max(a, b)) for a, b in chunk if a != b]
        dice = [((i * 7 + j) % 13 + 1) / 16 for i, j in pairs]  # one Dice per pair
        expected.update(zip(pairs, dice, strict=True))
        if pairs:
            left, right = (np.array(side, np.int64) for side in zip(*pairs, strict=True))
            found.add(left, right, np.array(dice))
    left, right, strongest = found.strongest_first()
    order = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
    assert list(zip(left.tolist(), right.tolist(), strongest.tolist(), strict=True)) == [
        (i, j, d) for (i, j), d in order
    ]


def _oversize_inputs(n: int) -> tuple[np.ndarray, ...]:
    """``n`` copies of near-identical encodings in one block: every tile pair matches."""
    rng = np.random.default_rng(1)
    bits = np.repeat(rng.integers(0, 2**63, size=(1, 4), dtype=np.uint64), n, axis=0)
    offsets = np.arange(n + 1, dtype=np.int64)
    values = np.full(n, 7, np.uint64)
    return offsets, values, np.ones(n, bool), bits


def test_tile_copies_are_reduced_and_budget_refuses_clearly() -> None:
    """Overlapping tiles find each pair many times; only distinct pairs are kept; a budget too
    small for the largest block's buffer ends in LinkageError, not in an allocation."""
    n = 64
    offsets, values, eligible, bits = _oversize_inputs(n)
    params = BlockingParams(max_block=8, tile=16, passes=4)
    blocks = build_blocks(offsets, values, eligible, bits, 256, params)
    group, gtoken, ghas = np.arange(n), np.zeros(n, np.uint64), np.zeros(n, bool)
    matches = fuzzy_matches(blocks, bits, 0.9, group, gtoken, ghas, MemoryBudget(MIN_BUDGET))
    pairs = set(zip(matches.left.tolist(), matches.right.tolist(), strict=True))
    assert len(pairs) == matches.left.size  # each pair once
    assert matches.compared > matches.left.size  # tiles compared pairs more than once
    big = BlockingParams(max_block=4096, tile=16, passes=1)
    m = 1200  # one ordinary block of 1200: 0.7 M pairs, 17 MB of buffer > 16 MB / 4
    offsets, values, eligible, bits = _oversize_inputs(m)
    blocks = build_blocks(offsets, values, eligible, bits, 256, big)
    group, gtoken, ghas = np.arange(m), np.zeros(m, np.uint64), np.zeros(m, bool)
    with pytest.raises(LinkageError, match="memory budget") as err:
        fuzzy_matches(blocks, bits, 0.9, group, gtoken, ghas, MemoryBudget(MIN_BUDGET))
    assert err.value.reason == "memory"
