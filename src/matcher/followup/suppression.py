"""Small-count suppression with complementary suppression over everything already published.

Every published figure is a sum over *atoms* (the finest counts, e.g. cases per round and
category). A :class:`Ledger` remembers the atom vectors of every cell it has published; before a
new table goes out, cells below the threshold are withheld (primary suppression) and further cells
are withheld (complementary suppression) until no count below the threshold - an atom, or a
withheld cell - lies in the linear span of what was published. That covers totals, margins and
the difference of two overlapping reports alike, since all of them are linear combinations.
Atoms that are zero are left out of the span test: that assumes the reader knows every empty
cell, which only makes the test stricter.

Publications outlive the data: after a follow-up row is edited, a report of the same period is
decided against what earlier reports showed (:class:`PublishedCell`, stored by the caller). An
earlier cell whose count is still true is an equation the reader can use on today's data, so it
joins the span (:meth:`Ledger.remember`); one whose count has changed no longer holds.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from matcher.errors import ConfigError

PRIMARY = "primary"
COMPLEMENTARY = "complementary"


@dataclass(frozen=True)
class Cell:
    """One figure of a table: a label, the atoms it sums, and whether (and why) it is withheld."""

    label: tuple[Hashable, ...]
    value: int
    atoms: frozenset[Hashable]
    suppressed: str | None = None

    def shown(self, threshold: int) -> int | str:
        """The published form: the count, ``<threshold`` when primary, ``x`` when complementary."""
        if self.suppressed == PRIMARY:
            return f"<{threshold}"
        if self.suppressed == COMPLEMENTARY:
            return "x"
        return self.value


@dataclass(frozen=True)
class PublishedCell:
    """A figure that went out: the atoms it sums and the count shown (never a withheld one)."""

    atoms: frozenset[Hashable]
    value: int


def _in_span(basis: np.ndarray, vector: np.ndarray) -> bool:
    """Whether ``vector`` is a linear combination of ``basis``' rows (least-squares residual)."""
    if basis.shape[0] == 0:
        return not vector.any()
    coef, *_ = np.linalg.lstsq(basis.T, vector, rcond=None)
    return bool(np.abs(basis.T @ coef - vector).max() < 1e-6)


@dataclass
class Ledger:
    """What has been published over one population of atoms, so later tables stay safe with it."""

    atoms: dict[Hashable, int]
    threshold: int = 5
    published: list[frozenset[Hashable]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ConfigError("the suppression threshold must be at least 1", reason="threshold")
        if any(v < 0 for v in self.atoms.values()):
            raise ConfigError("atom counts cannot be negative", reason="atoms")
        # A fixed atom order: the same data must always give the same pattern, or two requests
        # for one report could withhold different cells and together show everything.
        self.atoms = dict(sorted(self.atoms.items(), key=lambda kv: repr(kv[0])))
        self._index = {a: i for i, a in enumerate(a for a, v in self.atoms.items() if v > 0)}

    def _small(self, value: int) -> bool:
        return 0 < value < self.threshold

    def _vector(self, atoms: frozenset[Hashable]) -> np.ndarray:
        v = np.zeros(len(self._index))
        for a in atoms:
            i = self._index.get(a)
            if i is not None:
                v[i] = 1.0
        return v

    def remember(self, prior: Sequence[PublishedCell]) -> None:
        """Take earlier publications (of any period) into the span: those whose count is still
        the true one, since a reader may take them as holding today."""
        for cell in prior:
            if self.value(cell.atoms) == cell.value:
                self.published.append(cell.atoms)

    def value(self, atoms: frozenset[Hashable]) -> int:
        """The true count of a set of atoms."""
        return sum(self.atoms.get(a, 0) for a in atoms)

    def _sensitive(self, cells: Sequence[Cell]) -> list[np.ndarray]:
        small_atoms = [frozenset([a]) for a, v in self.atoms.items() if self._small(v)]
        small_cells = [c.atoms for c in cells if c.suppressed and self._small(c.value)]
        return [self._vector(s) for s in small_atoms + small_cells]

    def disclosed(self, cells: Sequence[Cell]) -> np.ndarray | None:
        """A small count derivable from earlier publications plus ``cells``' shown ones, if any."""
        shown = [self._vector(a) for a in self.published]
        shown += [self._vector(c.atoms) for c in cells if not c.suppressed]
        basis = np.array(shown) if shown else np.zeros((0, len(self._index)))
        for q in self._sensitive(cells):
            if _in_span(basis, q):
                return q
        return None

    def publish(
        self, cells: Sequence[tuple[tuple[Hashable, ...], frozenset[Hashable]]]
    ) -> list[Cell]:
        """Suppress and record one table of ``(label, atoms)`` cells; returns the cells as shown."""
        unknown = [a for _, atoms in cells for a in atoms if a not in self.atoms]
        if unknown:
            raise ConfigError("a cell names an atom outside the ledger", reason="atoms")
        out = [
            Cell(
                label, self.value(atoms), atoms, PRIMARY if self._small(self.value(atoms)) else None
            )
            for label, atoms in cells
        ]
        while (q := self.disclosed(out)) is not None:
            nxt = self._break(out, q)
            if nxt is out:  # only earlier publications imply it: nothing this table can change
                break
            out = nxt
        self.published.extend(c.atoms for c in out if not c.suppressed)
        return out

    def _break(self, cells: list[Cell], q: np.ndarray) -> list[Cell]:
        """Withhold the smallest shown cell whose removal stops ``q`` being derivable."""
        order = sorted((c.value, i) for i, c in enumerate(cells) if not c.suppressed)
        prior = [self._vector(a) for a in self.published]
        for _, i in order:
            rest = prior + [
                self._vector(c.atoms) for j, c in enumerate(cells) if not c.suppressed and j != i
            ]
            basis = np.array(rest) if rest else np.zeros((0, len(self._index)))
            if not _in_span(basis, q):
                return self._withhold(cells, i)
        # No single cell breaks it: withhold the smallest shown one and try again.
        return self._withhold(cells, order[0][1]) if order else cells

    @staticmethod
    def _withhold(cells: list[Cell], i: int) -> list[Cell]:
        c = cells[i]
        return [*cells[:i], Cell(c.label, c.value, c.atoms, COMPLEMENTARY), *cells[i + 1 :]]


def shown_cells(cells: Sequence[Cell]) -> list[PublishedCell]:
    """The cells of a table that went out with their count (to be remembered by the caller);
    cells over no atom at all say nothing and are left out."""
    return [PublishedCell(c.atoms, c.value) for c in cells if not c.suppressed and c.atoms]


def cross_table(
    ledger: Ledger, rows: Sequence[Hashable], cols: Sequence[Hashable], *, margins: bool = True
) -> list[Cell]:
    """Publish a rows x cols table whose atoms are ``(row, col)``, with row/column/grand totals."""
    cells: list[tuple[tuple[Hashable, ...], frozenset[Hashable]]] = [
        ((r, c), frozenset([(r, c)])) for r in rows for c in cols
    ]
    if margins:
        cells += [((r, "total"), frozenset((r, c) for c in cols)) for r in rows]
        cells += [(("total", c), frozenset((r, c) for r in rows)) for c in cols]
        cells.append((("total", "total"), frozenset((r, c) for r in rows for c in cols)))
    return ledger.publish(cells)
