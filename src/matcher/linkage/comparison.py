"""Field-level comparison of candidate pairs: each pair's comparison levels, for the match model.

The hashed file's field-level columns (`matcher.steward.fields`) become `FieldArrays`; the
candidate pairs are the pairs inside blocks (`linkage.blocking`) with some agreeing evidence
(`kernels.comparison.evidence_points`); each has a pattern (its identity, birth-date, given name
and surname levels) and the round counts of its rarest agreeing names. Two passes over the
blocks, neither holding the candidates: `pattern_counts` counts the patterns (the model's
training data, `linkage.model`), then `scored_pairs` scores every candidate in the kernel and
keeps only those that reach the bar. Random pairs, compared the same way, give the model the
levels' frequencies among non-matches (`random_pair_counts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import polars as pl

from matcher._numba_config import threads_for
from matcher.errors import LinkageError
from matcher.kernels import comparison as _kernels
from matcher.kernels.linkage import popcount_rows
from matcher.linkage.blocking import Blocks
from matcher.steward.fields import FIELD_BLOOM_BITS

__all__ = [
    "FieldArrays",
    "ScoredPairs",
    "pattern_counts",
    "random_pair_counts",
    "scored_pairs",
]

#: Pair slots per kernel call when scoring (24 bytes each buffered).
CHUNK_PAIRS = 1 << 21
#: Block pairs counted for the model at most; larger rounds count a sample of blocks.
FIT_PAIRS = 20_000_000


def _csr(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and values of a List(UInt64) column (null lists empty, null items dropped)."""
    clean = series.fill_null([]).list.drop_nulls()
    lengths = clean.list.len().to_numpy().astype(np.int64)
    offsets = np.zeros(lengths.size + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = clean.explode().drop_nulls().to_numpy().astype(np.uint64)
    return offsets, values


def _bits(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """A Binary column of FIELD_BLOOM_BITS filters as ``uint64[n, words]`` and popcounts."""
    nbytes = FIELD_BLOOM_BITS // 8
    n = series.len()
    lengths = series.bin.size().drop_nulls()
    if lengths.len() and (lengths.min() != nbytes or lengths.max() != nbytes):
        raise LinkageError(
            f"field encodings must be {nbytes} bytes long", column=series.name, reason="bits"
        )
    raw = b"".join(series.fill_null(bytes(nbytes)).to_list()) if n else b""
    bits = np.frombuffer(raw, dtype="<u8").reshape(n, nbytes // 8).astype(np.uint64)
    return bits, popcount_rows(bits) if n else np.zeros(0, np.int64)


def _counts(values: np.ndarray) -> np.ndarray:
    """For each value, how many times it occurs among ``values`` (its round frequency)."""
    if not values.size:
        return np.zeros(0, np.int64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return counts[inverse].astype(np.int64)


@dataclass(frozen=True)
class FieldArrays:
    """Per record, the field-level evidence as the kernels take it (`as_tuple`)."""

    kinds: np.ndarray
    ids: np.ndarray
    given_off: np.ndarray
    given_words: np.ndarray
    given_sounds: np.ndarray
    given_counts: np.ndarray
    surname_off: np.ndarray
    surname_words: np.ndarray
    surname_sounds: np.ndarray
    surname_counts: np.ndarray
    date_off: np.ndarray
    date_parts: np.ndarray
    given_bits: np.ndarray
    given_pop: np.ndarray
    surname_bits: np.ndarray
    surname_pop: np.ndarray

    @property
    def size(self) -> int:
        """Number of records."""
        return int(self.kinds.size)

    @property
    def given_records(self) -> int:
        """Records with at least one given name (the base of the given-name frequencies)."""
        return int(np.count_nonzero(np.diff(self.given_off)))

    @property
    def surname_records(self) -> int:
        """Records with a surname."""
        return int(np.count_nonzero(np.diff(self.surname_off)))

    def covers(self, records: np.ndarray) -> bool:
        """Whether every record in the mask has field-level evidence (a name or a birth date),
        so the comparison model can judge it without the record-level Dice pass."""
        evidence = (
            (np.diff(self.given_off) > 0)
            | (np.diff(self.surname_off) > 0)
            | (np.diff(self.date_off) > 0)
        )
        return bool(np.all(evidence[records]))

    def as_tuple(self) -> tuple[np.ndarray, ...]:
        """The ``fields`` tuple of ``kernels.comparison``."""
        return (
            self.kinds, self.ids, self.given_off, self.given_words, self.given_sounds,
            self.given_counts,
            self.surname_off, self.surname_words, self.surname_sounds, self.surname_counts,
            self.date_off, self.date_parts, self.given_bits, self.given_pop, self.surname_bits,
            self.surname_pop,
        )  # fmt: skip

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> FieldArrays:
        """From the hashed-file columns (frame row order); checks the CSR shapes."""
        given_off, given_words = _csr(frame["given_words"])
        sound_off, given_sounds = _csr(frame["given_sounds"])
        surname_off, surname_words = _csr(frame["surname_words"])
        ssound_off, surname_sounds = _csr(frame["surname_sounds"])
        date_off, date_parts = _csr(frame["date_parts"])
        if not (np.array_equal(given_off, sound_off) and np.array_equal(surname_off, ssound_off)):
            raise LinkageError("each name needs one word and one sound key", reason="shape")
        if np.any((np.diff(date_off) != 0) & (np.diff(date_off) != 3)):
            raise LinkageError("a birth date has three part tokens or none", reason="shape")
        given_bits, given_pop = _bits(frame["given_bloom"])
        surname_bits, surname_pop = _bits(frame["surname_bloom"])
        return cls(
            kinds=np.where(
                frame["id_token"].is_null().to_numpy(),
                0,
                frame["id_kind"].fill_null(0).to_numpy(),
            ).astype(np.uint8),
            ids=frame["id_token"].fill_null(0).to_numpy().astype(np.uint64),
            given_off=given_off,
            given_words=given_words,
            given_sounds=given_sounds,
            given_counts=_counts(given_words),
            surname_off=surname_off,
            surname_words=surname_words,
            surname_sounds=surname_sounds,
            surname_counts=_counts(surname_words),
            date_off=date_off,
            date_parts=date_parts,
            given_bits=given_bits,
            given_pop=given_pop,
            surname_bits=surname_bits,
            surname_pop=surname_pop,
        )


@dataclass(frozen=True)
class ScoredPairs:
    """Pairs ``left < right`` whose log2 match odds reach the bar, each once, and pairs compared."""

    left: np.ndarray
    right: np.ndarray
    weight: np.ndarray
    codes: np.ndarray
    compared: int


_EMPTY_WEIGHTS = np.zeros(0, np.float64)


def _run_blocks(
    blocks: Blocks,
    fields: FieldArrays,
    group: np.ndarray,
    gtoken: np.ndarray,
    ghas: np.ndarray,
    min_points: int,
    weights: np.ndarray,
    tf_const: np.ndarray,
    bar: float,
    stride: int = 1,
) -> tuple[np.ndarray, ScoredPairs]:
    """Run ``kernels.comparison.block_pair_scores`` over the blocks, group of blocks by group
    (at most CHUNK_PAIRS pair slots each, so memory stays bounded): the pattern counts when
    ``weights`` is empty, else the pairs that reach ``bar``. With ``stride`` k only every k-th
    group is run (blocks are ordered by keyed token, so that is a random sample of blocks)."""
    scoring = weights.size > 0
    capacity = blocks.pair_capacity()
    cum = np.cumsum(capacity)
    buf = max(CHUNK_PAIRS, int(capacity.max()) if capacity.size else 0) if scoring else 1
    out_left, out_right = np.empty(buf, np.int64), np.empty(buf, np.int64)
    out_weight = np.empty(buf, np.float64)
    out_code = np.empty(buf, np.int32)
    hist = np.zeros((numba.config.NUMBA_NUM_THREADS, _kernels.PATTERNS), np.int64)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    compared = 0
    lo = 0
    packed = fields.as_tuple()
    step = CHUNK_PAIRS
    group_index = -1
    with threads_for(int(capacity.sum())):
        while lo < blocks.count:
            base = int(cum[lo - 1]) if lo else 0
            hi = max(int(np.searchsorted(cum, base + step, side="right")), lo + 1)
            group_index += 1
            if group_index % stride:
                lo = hi
                continue
            offsets = (
                np.r_[0, cum[lo : hi - 1] - base].astype(np.int64)
                if scoring
                else np.zeros(hi - lo, np.int64)
            )
            found = np.zeros(hi - lo, np.int64)
            seen = np.zeros(hi - lo, np.int64)
            _kernels.block_pair_scores(
                blocks.members, blocks.starts, lo, hi, offsets, blocks.rec_offsets,
                blocks.rec_blocks, packed, group, gtoken, ghas, int(min_points), weights,
                tf_const, float(bar), hist, out_left, out_right, out_weight, out_code, found, seen,
            )  # fmt: skip
            compared += int(seen.sum())
            total = int(found.sum())
            if total:
                take = np.repeat(offsets - (np.cumsum(found) - found), found) + np.arange(total)
                parts.append((out_left[take], out_right[take], out_weight[take], out_code[take]))
            lo = hi
    counts = hist.sum(axis=0)
    if not parts:
        e64 = np.zeros(0, np.int64)
        return counts, ScoredPairs(e64, e64, np.zeros(0), np.zeros(0, np.int32), compared)
    left, right, weight, codes = (np.concatenate(p) for p in zip(*parts, strict=True))
    # pairs met in more than one tile come once
    key = left.astype(np.uint64) * np.uint64(fields.size + 1) + right.astype(np.uint64)
    _, first = np.unique(key, return_index=True)
    return counts, ScoredPairs(left[first], right[first], weight[first], codes[first], compared)


def pattern_counts(
    blocks: Blocks,
    fields: FieldArrays,
    tokens: np.ndarray,
    has_token: np.ndarray,
    min_points: int,
    max_pairs: int = FIT_PAIRS,
) -> tuple[np.ndarray, int]:
    """How many candidate pairs in the blocks show each comparison pattern (the model's training
    data: pairs already linked count too), and how many pairs were compared. Memory: O(1).

    Above ``max_pairs`` block pairs, a sample of groups of blocks is counted and the counts are
    scaled to the whole (EM needs the shape of the counts and their total, not every pair)."""
    records = np.arange(fields.size, dtype=np.int64)
    capacity = int(blocks.pair_capacity().sum())
    stride = max(1, -(-capacity // max(max_pairs, 1)))
    counts, scored = _run_blocks(
        blocks, fields, records, tokens, has_token, min_points, _EMPTY_WEIGHTS,
        np.zeros((2, 2)), 0.0, stride,
    )  # fmt: skip
    if stride > 1 and scored.compared:
        counts = np.round(counts * (capacity / scored.compared)).astype(np.int64)
    return counts, scored.compared


def scored_pairs(
    blocks: Blocks,
    fields: FieldArrays,
    group: np.ndarray,
    gtoken: np.ndarray,
    ghas: np.ndarray,
    min_points: int,
    weights: np.ndarray,
    tf_const: np.ndarray,
    bar: float,
) -> ScoredPairs:
    """The candidate pairs not yet joined whose log2 match odds (``weights`` per pattern plus the
    tf adjustment) reach ``bar``; only those are kept, so memory follows the matches."""
    if weights.shape != (_kernels.PATTERNS,) or tf_const.shape != (2, 2):
        raise LinkageError("one weight per pattern and 2 x 2 tf constants", reason="shape")
    return _run_blocks(
        blocks, fields, group, gtoken, ghas, min_points, weights.astype(np.float64),
        tf_const.astype(np.float64), bar,
    )[1]  # fmt: skip


def random_pair_counts(fields: FieldArrays, count: int, seed: int) -> np.ndarray:
    """Pattern counts of ``count`` random pairs of distinct records (non-matches, nearly all)."""
    n = fields.size
    if n < 2 or count <= 0:
        return np.zeros(_kernels.PATTERNS, np.int64)
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n, size=count, dtype=np.int64)
    right = (left + rng.integers(1, n, size=count, dtype=np.int64)) % n
    with threads_for(count):
        codes, _, _ = _kernels.pair_patterns(fields.as_tuple(), left, right)
    return np.bincount(codes, minlength=_kernels.PATTERNS).astype(np.int64)
