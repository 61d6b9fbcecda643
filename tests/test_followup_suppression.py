"""Suppression properties: no count below the threshold can be derived from what is published."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.followup.suppression import Cell, Ledger, cross_table

THRESHOLD = 5
counts = st.integers(0, 12)


def _derivable(ledger: Ledger, published: list[frozenset], target: frozenset) -> bool:
    """Independent check by null space: ``target`` is fixed by ``published`` sums iff it is
    orthogonal to every direction the published sums leave free (over non-zero atoms)."""
    atoms = [a for a, v in ledger.atoms.items() if v > 0]
    idx = {a: i for i, a in enumerate(atoms)}
    if not atoms:
        return True
    a_mat = np.zeros((max(len(published), 1), len(atoms)))
    for r, cell in enumerate(published):
        for a in cell:
            if a in idx:
                a_mat[r, idx[a]] = 1
    q = np.zeros(len(atoms))
    for a in target:
        if a in idx:
            q[idx[a]] = 1
    _, s, vt = np.linalg.svd(a_mat)
    rank = int((s > 1e-9).sum())
    null = vt[rank:]
    return bool(np.abs(null @ q).max(initial=0) < 1e-9)


def _assert_safe(ledger: Ledger, tables: list[list[Cell]]) -> None:
    published = [c.atoms for t in tables for c in t if not c.suppressed]
    small = [frozenset([a]) for a, v in ledger.atoms.items() if 0 < v < THRESHOLD]
    small += [c.atoms for t in tables for c in t if c.suppressed and 0 < c.value < THRESHOLD]
    for target in small:
        assert not _derivable(ledger, published, target)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_one_table_with_margins_hides_every_small_count(rows: int, cols: int, data) -> None:
    values = data.draw(st.lists(counts, min_size=rows * cols, max_size=rows * cols))
    atoms: dict[Hashable, int] = {
        (r, c): values[r * cols + c] for r in range(rows) for c in range(cols)
    }
    ledger = Ledger(atoms, THRESHOLD)
    table = cross_table(ledger, list(range(rows)), list(range(cols)))
    _assert_safe(ledger, [table])
    for cell in table:
        shown = cell.shown(THRESHOLD)
        assert shown == cell.value if not cell.suppressed else isinstance(shown, str)
        if 0 < cell.value < THRESHOLD:
            assert shown == f"<{THRESHOLD}"


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 6), st.integers(1, 3), st.data())
def test_two_overlapping_period_reports_hide_every_small_count(
    rounds: int, cats: int, data
) -> None:
    values = data.draw(st.lists(counts, min_size=rounds * cats, max_size=rounds * cats))
    atoms: dict[Hashable, int] = {
        (r, c): values[r * cats + c] for r in range(rounds) for c in range(cats)
    }
    a_end = data.draw(st.integers(1, rounds))
    b_start = data.draw(st.integers(0, a_end - 1))
    ledger = Ledger(atoms, THRESHOLD)

    def period(lo: int, hi: int) -> list[tuple[tuple[Hashable, ...], frozenset[Hashable]]]:
        cells: list[tuple[tuple[Hashable, ...], frozenset[Hashable]]] = [
            (("cat", c), frozenset((r, c) for r in range(lo, hi))) for c in range(cats)
        ]
        cells.append((("total",), frozenset((r, c) for r in range(lo, hi) for c in range(cats))))
        return cells

    first = ledger.publish(period(0, a_end))
    second = ledger.publish(period(b_start, rounds))
    _assert_safe(ledger, [first, second])


def test_nothing_small_means_nothing_withheld() -> None:
    ledger = Ledger({("a", 0): 7, ("a", 1): 9, ("b", 0): 0, ("b", 1): 12}, THRESHOLD)
    table = cross_table(ledger, ["a", "b"], [0, 1])
    assert all(c.suppressed is None for c in table)


def test_a_lone_small_cell_takes_a_partner_in_row_and_column() -> None:
    ledger = Ledger({(0, 0): 3, (0, 1): 10, (1, 0): 20, (1, 1): 30}, THRESHOLD)
    table = {c.label: c for c in cross_table(ledger, [0, 1], [0, 1])}
    assert table[(0, 0)].shown(THRESHOLD) == "<5"
    assert sum(1 for c in table.values() if c.suppressed) >= 4


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_the_pattern_does_not_depend_on_atom_order(rows: int, cols: int, data) -> None:
    values = data.draw(st.lists(counts, min_size=rows * cols, max_size=rows * cols))
    atoms = [((r, c), values[r * cols + c]) for r in range(rows) for c in range(cols)]
    shuffled = data.draw(st.permutations(atoms))
    first = cross_table(Ledger(dict(atoms), THRESHOLD), list(range(rows)), list(range(cols)))
    second = cross_table(Ledger(dict(shuffled), THRESHOLD), list(range(rows)), list(range(cols)))
    assert [c.shown(THRESHOLD) for c in first] == [c.shown(THRESHOLD) for c in second]
