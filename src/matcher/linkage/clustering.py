"""Clustering of linked records into children, without chaining errors.

The rule (the product's promise): **two records whose valid identity-number tokens differ are
never put in one cluster, not even through a chain of weaker links.** Each component carries
the identity token of its members, if any. Links are applied in order of strength:

1. identity-number links (records with the same ``id_token``; these are never refused),
2. exact name + birth-date links (shared ``name_tokens``), token by token,
3. fuzzy links by decreasing Dice coefficient (ties by record order).

A link that would join two components carrying different identity tokens is refused and
counted, so a record without a number joins the first compatible child it is linked to, and a
mistyped number (no valid token) never bridges two children with valid numbers. Within one
strength level the order is fixed by the data (token values, Dice, canonical record order), so
the same input always gives the same clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher._numba_config import threads_for
from matcher.errors import LinkageError
from matcher.kernels import linkage as _kernels


@dataclass(frozen=True)
class UnionCounts:
    """What one batch of links did: unions made and unions refused by the identity rule."""

    made: int
    refused: int


class Components:
    """Union-find over records that enforces the identity-number rule (see module docstring)."""

    def __init__(
        self, id_tokens: np.ndarray, id_valid: np.ndarray, id_kinds: np.ndarray | None = None
    ) -> None:
        """``id_kinds`` (1 personnummer, 2 samordningsnummer) lets a child hold one number of
        each kind; without it every number is of one kind."""
        if id_tokens.dtype != np.uint64 or id_valid.dtype != np.bool_:
            raise LinkageError("id tokens must be uint64 with a bool validity mask", reason="dtype")
        if id_tokens.ndim != 1 or id_tokens.shape != id_valid.shape:
            raise LinkageError(
                "id tokens and validity mask must be 1-D of one length", reason="shape"
            )
        if id_kinds is not None and id_kinds.shape != id_tokens.shape:
            raise LinkageError("one identity-number kind per record", reason="shape")
        self.size = int(id_tokens.size)
        self._parent = np.arange(self.size, dtype=np.int64)
        slot = (
            np.zeros(self.size, np.int64) if id_kinds is None else (id_kinds == 2).astype(np.int64)
        )
        tokens = np.where(id_valid, id_tokens, np.uint64(0)).astype(np.uint64)
        self._ctoken = np.zeros((self.size, 2), np.uint64)
        self._chas = np.zeros((self.size, 2), np.bool_)
        records = np.arange(self.size)
        self._ctoken[records, slot] = tokens
        self._chas[records, slot] = id_valid
        self._token0 = tokens
        self._has0 = id_valid & (slot == 0)

    def _check_records(self, *arrays: np.ndarray) -> None:
        for arr in arrays:
            if arr.size and (arr.min() < 0 or arr.max() >= self.size):
                raise LinkageError("record index out of range", reason="index")

    def link_tokens(self, tokens: np.ndarray, owners: np.ndarray) -> UnionCounts:
        """Link records that share a token; ``owners[t]`` is the record holding ``tokens[t]``."""
        if tokens.dtype != np.uint64 or tokens.shape != owners.shape or tokens.ndim != 1:
            raise LinkageError("tokens must be 1-D uint64, one owner per token", reason="shape")
        owners = owners.astype(np.int64, copy=False)
        self._check_records(owners)
        with threads_for(tokens.size):
            sorted_tokens, sorted_owners = _kernels.sort_tokens(tokens, owners)
        made, refused = _kernels.union_runs(
            sorted_tokens, sorted_owners, self._parent, self._ctoken, self._chas
        )
        return UnionCounts(int(made), int(refused))

    def link_pairs(self, left: np.ndarray, right: np.ndarray) -> UnionCounts:
        """Link ``left[p]`` with ``right[p]`` in the order given (strongest link first)."""
        if left.shape != right.shape or left.ndim != 1:
            raise LinkageError("pair arrays must be 1-D and of one length", reason="shape")
        left = left.astype(np.int64, copy=False)
        right = right.astype(np.int64, copy=False)
        self._check_records(left, right)
        made, refused = _kernels.union_pairs(left, right, self._parent, self._ctoken, self._chas)
        return UnionCounts(int(made), int(refused))

    def roots(self) -> np.ndarray:
        """Root record of every record's component (the smallest record index in it)."""
        return _kernels.find_roots(self._parent)

    def component_tokens(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per record: its component root, the component's personnummer token and whether it has
        one (two components with different ones can never join)."""
        roots = self.roots()
        return roots, self._ctoken[roots, 0], self._chas[roots, 0]

    def record_tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """Per record its own identity token and whether it is a personnummer (two records with
        different personnummer can never join)."""
        return self._token0, self._has0

    def labels(self) -> np.ndarray:
        """Dense cluster labels ``0..c-1``, numbered by each cluster's first record."""
        return _kernels.dense_labels(self.roots())


def partition(labels: np.ndarray) -> frozenset[frozenset[int]]:
    """A labelling as a set of clusters of record indices (to compare clusterings)."""
    groups: dict[int, set[int]] = {}
    for i, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(i)
    return frozenset(frozenset(g) for g in groups.values())
