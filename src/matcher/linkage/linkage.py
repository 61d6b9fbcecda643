"""The linkage core's public face: hashed files in, clusters (one per child) and cases out.

``link`` checks that the files belong together, puts the records in a canonical order (by
agency, then ref), links them and finds the cases. ``link_arrays`` does the linking on plain
arrays (for benchmarks): identity-number links, then exact name links, then fuzzy links found
by Dice coefficient inside blocks, clustered under the identity-number rule of
:mod:`matcher.linkage.clustering`. Every wrapper validates in Python, then calls the Numba kernels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from time import perf_counter
from typing import Any, cast

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from matcher._numba_config import threads_for
from matcher.errors import ConfigError, LinkageError
from matcher.kernels import linkage as _kernels
from matcher.linkage.blocking import BlockingParams, Blocks, build_blocks
from matcher.linkage.budget import MemoryBudget, plan_chunk
from matcher.linkage.cases import (
    STRENGTH_NAMES,
    cases_from_sorted,
    check_window,
    summarise_cases,
)
from matcher.linkage.clustering import Components
from matcher.linkage.comparison import (
    FieldArrays,
    pattern_counts,
    random_pair_counts,
    scored_pairs,
)
from matcher.linkage.matches import PAIR_BYTES, MatchSet
from matcher.linkage.model import MatchModel, fit_model, levels_of
from matcher.steward.hashed_file import HashedFile, check_compatible, hashed_columns

#: Dice at or above which two encodings link; bench_quality sweep (tokens v2): precision at 0.9
#: holds with scale (0.9994/0.9984/0.9982 at 20k/100k/200k children), at 0.8 it falls below 0.99.
DEFAULT_THRESHOLD = 0.9
#: Match probability at or above which the comparison model links a candidate pair. On the tuning
#: data (synth default profile, FEBRL1) precision stays >= 0.995 from 0.3 up; 0.8 keeps a margin
#: for lists unlike them. Held out (FEBRL2, FEBRL3, the harsh synth profile) it holds there too,
#: where 0.5 does not (harsh: 0.985). Figures: README, bench_quality.py.
DEFAULT_MATCH_PROBABILITY = 0.8
#: A candidate pair needs this much agreeing evidence (`kernels.comparison.evidence_points`).
MIN_EVIDENCE_POINTS = 3
#: Random pairs compared to start the model's non-match frequencies.
RANDOM_PAIRS = 200_000
#: Pairs buffered per call of the block kernel (``PAIR_BYTES`` each), when the budget allows.
CHUNK_PAIRS = 1 << 22
#: Share of the memory budget for the block kernel's pair buffers (the rest: the matches kept).
BUFFER_SHARE = 0.25

StageCallback = Callable[[str], None]


@dataclass(frozen=True)
class LinkageArrays:
    """One row per record: identity token, name and blocking tokens (CSR), packed encoding."""

    id_tokens: np.ndarray
    id_valid: np.ndarray
    name_offsets: np.ndarray
    name_tokens: np.ndarray
    block_offsets: np.ndarray
    block_tokens: np.ndarray
    bits: np.ndarray
    bloom_valid: np.ndarray
    nbits: int

    @property
    def size(self) -> int:
        """Number of records."""
        return int(self.id_tokens.size)

    def check(self) -> None:
        """Refuse arrays of the wrong dtype or shape before any kernel sees them."""
        n = self.size
        expect = {
            "id_tokens": (self.id_tokens, np.uint64, (n,)),
            "id_valid": (self.id_valid, np.bool_, (n,)),
            "name_offsets": (self.name_offsets, np.int64, (n + 1,)),
            "name_tokens": (self.name_tokens, np.uint64, None),
            "block_offsets": (self.block_offsets, np.int64, (n + 1,)),
            "block_tokens": (self.block_tokens, np.uint64, None),
            "bloom_valid": (self.bloom_valid, np.bool_, (n,)),
        }
        for name, (arr, dtype, shape) in expect.items():
            if arr.dtype != dtype or (shape is not None and arr.shape != shape) or arr.ndim != 1:
                raise LinkageError(f"{name} must be 1-D {np.dtype(dtype).name}", reason="shape")
        words = (self.nbits + 63) // 64
        if not 64 <= self.nbits <= 8192:
            raise LinkageError("encodings must have 64 to 8192 bits", reason="bits")
        if self.bits.dtype != np.uint64 or self.bits.shape != (n, words):
            raise LinkageError(f"bits must be uint64[{n}, {words}]", reason="shape")
        for name, offsets, values in (
            ("name", self.name_offsets, self.name_tokens),
            ("block", self.block_offsets, self.block_tokens),
        ):
            if offsets[0] != 0 or offsets[-1] != values.size or np.any(np.diff(offsets) < 0):
                raise LinkageError(f"{name} offsets are not a valid CSR index", reason="shape")

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, nbits: int) -> LinkageArrays:
        """Arrays from a frame with the hashed-file columns (in the frame's row order)."""
        name_offsets, name_tokens = _csr(frame["name_tokens"])
        block_offsets, block_tokens = _csr(frame["block_tokens"])
        bits, bloom_valid = _pack_bits(frame["bloom"], nbits)
        return cls(
            id_tokens=frame["id_token"].fill_null(0).to_numpy().astype(np.uint64),
            id_valid=frame["id_token"].is_not_null().to_numpy(),
            name_offsets=name_offsets,
            name_tokens=name_tokens,
            block_offsets=block_offsets,
            block_tokens=block_tokens,
            bits=bits,
            bloom_valid=bloom_valid,
            nbits=nbits,
        )


def _csr(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and values of a List(UInt64) column (nulls and null items dropped)."""
    arrow = series.to_arrow()
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    flat = arrow.flatten()  # respects slicing, skips the contents of null lists
    if flat.null_count == 0:
        lengths = pc.fill_null(pc.list_value_length(arrow), 0).to_numpy()
        offsets = np.r_[np.int64(0), np.cumsum(lengths)].astype(np.int64)
        return offsets, flat.to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
    clean = series.list.drop_nulls()
    lengths = clean.list.len().fill_null(0).to_numpy().astype(np.int64)
    values = clean.explode().drop_nulls().to_numpy().astype(np.uint64)
    return np.r_[np.int64(0), np.cumsum(lengths)].astype(np.int64), values


def _pack_bits(series: pl.Series, nbits: int) -> tuple[np.ndarray, np.ndarray]:
    """A Binary column of ``nbits / 8``-byte encodings as ``uint64[n, words]``, plus validity."""

    nbytes = nbits // 8
    words = (nbits + 63) // 64
    n = series.len()
    valid = series.is_not_null().to_numpy()
    lengths = series.bin.size().drop_nulls()
    if lengths.len() and (lengths.min() != nbytes or lengths.max() != nbytes):
        raise LinkageError(f"encodings must be {nbytes} bytes long", column="bloom", reason="bits")
    out = np.zeros((n, words * 8), dtype=np.uint8)
    if n:
        arrow = series.fill_null(bytes(nbytes)).to_arrow()
        fixed = arrow.cast(pa.binary(nbytes))
        raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
        start = fixed.offset * nbytes
        out[:, :nbytes] = raw[start : start + n * nbytes].reshape(n, nbytes)
    return out.view("<u8").reshape(n, words).astype(np.uint64, copy=False), valid


def dice_coefficients(bits: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Dice coefficient of the encodings ``bits[left[p]]`` and ``bits[right[p]]`` for each ``p``."""
    if bits.dtype != np.uint64 or bits.ndim != 2:
        raise LinkageError("bits must be a 2-D uint64 matrix", reason="shape")
    if left.shape != right.shape or left.ndim != 1:
        raise LinkageError("pair arrays must be 1-D and of one length", reason="shape")
    left = left.astype(np.int64, copy=False)
    right = right.astype(np.int64, copy=False)
    for side in (left, right):
        if side.size and (side.min() < 0 or side.max() >= bits.shape[0]):
            raise LinkageError("record index out of range", reason="index")
    with threads_for(left.size + bits.shape[0]):
        return _kernels.dice_pairs(bits, _kernels.popcount_rows(bits), left, right)


@dataclass(frozen=True)
class FuzzyMatches:
    """Pairs ``left < right`` with Dice >= threshold, strongest first, and pairs compared."""

    left: np.ndarray
    right: np.ndarray
    dice: np.ndarray
    compared: int


def fuzzy_matches(
    blocks: Blocks,
    bits: np.ndarray,
    threshold: float,
    group: np.ndarray,
    gtoken: np.ndarray,
    ghas: np.ndarray,
    budget: MemoryBudget | None = None,
) -> FuzzyMatches:
    """Compare pairs inside blocks (chunk by chunk, within the memory budget) and keep the matches.

    ``group``/``gtoken``/``ghas`` give each record's component and its identity token so pairs
    already joined, or never joinable, are skipped (see ``_kernels.block_pair_dice``).
    ``budget`` defaults to :meth:`MemoryBudget.from_environment`; state that cannot fit in it
    raises LinkageError (reason ``memory``) before it is allocated.
    """
    capacity = blocks.pair_capacity()
    budget = budget or MemoryBudget.from_environment()
    with threads_for(int(capacity.sum())):
        return _fuzzy_matches(blocks, bits, capacity, threshold, group, gtoken, ghas, budget)


def _fuzzy_matches(
    blocks: Blocks,
    bits: np.ndarray,
    capacity: np.ndarray,
    threshold: float,
    group: np.ndarray,
    gtoken: np.ndarray,
    ghas: np.ndarray,
    budget: MemoryBudget,
) -> FuzzyMatches:
    counts = _kernels.popcount_rows(bits)
    cum = np.cumsum(capacity)
    largest = int(capacity.max()) if capacity.size else 0
    buf = plan_chunk(
        budget, PAIR_BYTES, share=BUFFER_SHARE, largest=largest, preferred=CHUNK_PAIRS,
        what="the fuzzy pass's pair buffer (largest block)",
    )  # fmt: skip
    out_left = np.empty(buf, np.int64)
    out_right = np.empty(buf, np.int64)
    out_dice = np.empty(buf, np.float64)
    found_pairs = MatchSet(int(bits.shape[0]), budget)
    compared = 0
    lo = 0
    while lo < blocks.count:
        base = int(cum[lo - 1]) if lo else 0
        hi = max(int(np.searchsorted(cum, base + buf, side="right")), lo + 1)
        offsets = np.r_[0, cum[lo : hi - 1] - base].astype(np.int64)
        found = np.zeros(hi - lo, np.int64)
        seen = np.zeros(hi - lo, np.int64)
        _kernels.block_pair_dice(
            blocks.members, blocks.starts, lo, hi, offsets, blocks.rec_offsets,
            blocks.rec_blocks, bits, counts, group, gtoken, ghas, float(threshold),
            out_left, out_right, out_dice, found, seen,
        )  # fmt: skip
        compared += int(seen.sum())
        total = int(found.sum())
        if total:
            take = np.repeat(offsets - (np.cumsum(found) - found), found) + np.arange(total)
            found_pairs.add(out_left[take], out_right[take], out_dice[take])
        lo = hi
    del out_left, out_right, out_dice
    left, right, dice = found_pairs.strongest_first()
    return FuzzyMatches(left=left, right=right, dice=dice, compared=compared)


@dataclass(frozen=True)
class ArrayLinkage:
    """Result of :func:`link_arrays`: a dense cluster label per record and what happened."""

    labels: np.ndarray
    links: dict[str, int]
    timings: dict[str, float]
    model: MatchModel | None = None
    strength: np.ndarray | None = None
    """Per record, its cluster's `CaseStrength` level (0, 1, 2: see `cluster_strength`)."""


def _check_threshold(threshold: float) -> float:
    if not isinstance(threshold, (int, float)) or not 0.0 < float(threshold) <= 1.0:
        raise ConfigError("threshold must be a Dice coefficient in (0, 1]", reason="threshold")
    return float(threshold)


def link_arrays(
    arrays: LinkageArrays,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    blocking: BlockingParams | None = None,
    fuzzy: bool = True,
    fields: FieldArrays | None = None,
    match_probability: float = DEFAULT_MATCH_PROBABILITY,
    on_stage: StageCallback | None = None,
    budget: MemoryBudget | None = None,
) -> ArrayLinkage:
    """Link records given as arrays: identity links, then name links, then fuzzy links, then
    (given the field-level evidence) links by the comparison model's match probability.

    ``budget`` bounds the fuzzy pass's working memory (default: from the environment).

    Returns dense cluster labels in record order (a cluster is numbered by its first record).
    """
    threshold = _check_threshold(threshold)
    blocking = blocking or BlockingParams()
    blocking.check()
    arrays.check()
    stage = on_stage or (lambda _name: None)
    n = arrays.size
    timings: dict[str, float] = {}
    links: dict[str, int] = {}

    stage("identity links")
    t = perf_counter()
    kinds = fields.kinds if fields is not None else None
    components = Components(arrays.id_tokens, arrays.id_valid, kinds)
    owners = np.flatnonzero(arrays.id_valid).astype(np.int64)
    done = components.link_tokens(arrays.id_tokens[owners], owners)
    links["id"] = done.made
    timings["id_links_s"] = perf_counter() - t
    by_identity = components.roots().copy()

    stage("name links")
    t = perf_counter()
    owners = np.repeat(np.arange(n, dtype=np.int64), np.diff(arrays.name_offsets))
    done = components.link_tokens(arrays.name_tokens, owners)
    links["name"], links["name_refused"] = done.made, done.refused
    timings["name_links_s"] = perf_counter() - t
    by_names = components.roots().copy()

    links.update(fuzzy_compared=0, fuzzy_matched=0, fuzzy=0, fuzzy_refused=0, blocks=0)
    model: MatchModel | None = None
    if fuzzy and arrays.bloom_valid.any():
        stage("blocking")
        t = perf_counter()
        blocks = build_blocks(
            arrays.block_offsets,
            arrays.block_tokens,
            arrays.bloom_valid,
            arrays.bits,
            arrays.nbits,
            blocking,
        )
        links.update(
            blocks=blocks.count,
            oversize_blocks=blocks.oversize,
            oversize_records=blocks.oversize_records,
        )
        timings["blocking_s"] = perf_counter() - t

        if fields is None or not fields.covers(arrays.bloom_valid):
            # records encoded for Dice but without field-level evidence (hand-built arrays,
            # benchmarks): the record-level Dice pass links them
            stage("fuzzy comparisons")
            t = perf_counter()
            group, gtoken, ghas = components.component_tokens()
            matches = fuzzy_matches(blocks, arrays.bits, threshold, group, gtoken, ghas, budget)
            links["fuzzy_compared"] = matches.compared
            links["fuzzy_matched"] = int(matches.left.size)
            timings["fuzzy_compare_s"] = perf_counter() - t

            stage("fuzzy links")
            t = perf_counter()
            done = components.link_pairs(matches.left, matches.right)
            links["fuzzy"], links["fuzzy_refused"] = done.made, done.refused
            timings["fuzzy_links_s"] = perf_counter() - t

        if fields is not None:
            model, by_names = _scored_links(
                blocks, fields, components, match_probability, stage, links, timings
            )

    t = perf_counter()
    labels = components.labels()
    strength = cluster_strength(labels, by_identity, by_names)
    timings["labels_s"] = perf_counter() - t
    return ArrayLinkage(labels=labels, links=links, timings=timings, model=model, strength=strength)


def cluster_strength(
    labels: np.ndarray, by_identity: np.ndarray, by_names: np.ndarray
) -> np.ndarray:
    """Per record, how strongly its cluster holds together (`CaseStrength` codes): 0 when its
    records are one through identity numbers alone, 1 when through identity numbers and exact
    names with the birth date, 2 when a probable link (the comparison model) was needed.
    ``by_*`` are the union-find roots after those stages."""
    strength = np.zeros(labels.size, np.uint8)
    for level, roots in ((1, by_identity), (2, by_names)):
        pairs = np.unique(labels.astype(np.int64) * (labels.size + 1) + roots)
        parts = np.bincount(pairs // (labels.size + 1), minlength=int(labels.max(initial=-1)) + 1)
        split = parts[labels] > 1  # the cluster spans several components of that stage
        strength[split] = np.maximum(strength[split], level)
    return strength


def _scored_links(
    blocks: Blocks,
    fields: FieldArrays,
    components: Components,
    match_probability: float,
    stage: StageCallback,
    links: dict[str, int],
    timings: dict[str, float],
) -> tuple[MatchModel, np.ndarray]:
    """Fit the match model on the pattern counts of every candidate pair in the blocks (linked
    ones too: the model must see the easy matches to learn what a match looks like), then score
    the pairs not yet joined in a second pass and link those whose match probability reaches
    ``match_probability``, most probable first. Returns the model and the union-find roots
    after the sure links (birth date and both names agree), before the probable ones."""
    stage("scored comparisons")
    t = perf_counter()
    if fields.size != components.size:
        raise LinkageError("field arrays and records differ in length", reason="shape")
    ids, has_id = components.record_tokens()
    counts, compared = pattern_counts(blocks, fields, ids, has_id, MIN_EVIDENCE_POINTS)
    random_counts = random_pair_counts(fields, RANDOM_PAIRS, seed=0x5EED)
    model = fit_model(counts, random_counts, fields.size * (fields.size - 1) // 2)
    links["scored_fit_compared"] = compared
    links["scored_candidates"] = int(counts.sum())
    timings["scored_fit_s"] = perf_counter() - t

    stage("scored links")
    t = perf_counter()
    bar = float(np.log2(match_probability / (1.0 - match_probability)))
    group, gtoken, ghas = components.component_tokens()
    pairs = scored_pairs(
        blocks,
        fields,
        group,
        gtoken,
        ghas,
        MIN_EVIDENCE_POINTS,
        model.pattern_table(fields.size),
        model.tf_constants(int(fields.given_words.size), int(fields.surname_words.size)),
        bar,
    )
    # sure links (birth date and both names agree) before probable ones, each strongest
    # first; ties in record order, so the result does not depend on input order
    levels = levels_of(pairs.codes)
    sure = (levels[:, 1] == 1) & (levels[:, 2] <= 2) & (levels[:, 3] <= 2) & (levels[:, 2] >= 1)
    sure &= levels[:, 3] >= 1
    order = np.lexsort((pairs.right, pairs.left, -pairs.weight, ~sure))
    n_sure = int(sure.sum())
    made = refused = 0
    by_names = np.zeros(0, np.int64)
    for part in (order[:n_sure], order[n_sure:]):
        done = components.link_pairs(pairs.left[part], pairs.right[part])
        made, refused = made + done.made, refused + done.refused
        if not by_names.size:
            by_names = components.roots().copy()
    links["scored_compared"] = pairs.compared
    links["scored_matched"] = int(order.size)
    links["scored"], links["scored_refused"] = made, refused
    timings["scored_links_s"] = perf_counter() - t
    return model, by_names


_WARMED: list[float] = []


def warm_up() -> float:
    """Compile (or load from Numba's cache) every kernel once; seconds spent, 0.0 if done before."""
    if _WARMED:
        return 0.0
    t = perf_counter()
    rng = np.random.default_rng(0)
    n = 8
    bits = rng.integers(0, 2**63, size=(n, 2), dtype=np.uint64)
    arrays = LinkageArrays(
        id_tokens=np.arange(n, dtype=np.uint64) % np.uint64(3),
        id_valid=np.arange(n) % 2 == 0,
        name_offsets=np.arange(n + 1, dtype=np.int64),
        name_tokens=np.arange(n, dtype=np.uint64) % np.uint64(4),
        block_offsets=np.arange(n + 1, dtype=np.int64),
        block_tokens=np.zeros(n, dtype=np.uint64),
        bits=bits,
        bloom_valid=np.ones(n, dtype=bool),
        nbits=128,
    )
    link_arrays(arrays, threshold=0.5, blocking=BlockingParams(max_block=4, tile=4, passes=1))
    dice_coefficients(bits, np.zeros(1, np.int64), np.ones(1, np.int64))
    _WARMED.append(perf_counter() - t)
    return _WARMED[0]


@dataclass(frozen=True)
class LinkageStats:
    """Counts and timings of one linkage run (no identifiers, safe to log and show)."""

    records: int
    agencies: int
    clusters: int
    cases: int
    links: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    compile_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (the service stores it with the round)."""
        return {
            "records": self.records,
            "agencies": self.agencies,
            "clusters": self.clusters,
            "cases": self.cases,
            "links": dict(self.links),
            "timings": dict(self.timings),
            "compile_s": self.compile_s,
        }


@dataclass(frozen=True)
class LinkageResult:
    """Clusters (every record: agency, ref, cluster_id), cases (one row per record in a case:
    case_id, agency, ref, signal, signal_date) and stats; the per-case summary on demand."""

    clusters: pl.DataFrame
    cases: pl.DataFrame
    stats: LinkageStats

    @cached_property
    def case_summary(self) -> pl.DataFrame:
        """Per case: agencies and signal categories involved, record and agency counts."""
        return summarise_cases(self.cases)


def link(
    files: Sequence[HashedFile],
    *,
    k: int = 2,
    window_from: date | None = None,
    window_to: date | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    match_probability: float = DEFAULT_MATCH_PROBABILITY,
    blocking: BlockingParams | None = None,
    on_stage: StageCallback | None = None,
) -> LinkageResult:
    """Link the hashed files of one round into clusters and find the cases.

    Raises KeyMismatchError when the files were made with different keys or parameters, and
    LinkageError when records repeat. The result does not depend on the order of files or rows.
    """
    if not files:
        raise LinkageError("no hashed files to link", reason="empty")
    check_compatible([f.header for f in files])
    threshold = _check_threshold(threshold)
    check_window(k, window_from, window_to)
    stage = on_stage or (lambda _name: None)
    started = perf_counter()
    compile_s = warm_up()

    stage("reading")
    t = perf_counter()
    # files built in memory may lack the field-level columns: as records without that evidence
    frame = pl.concat([hashed_columns(f.frame) for f in files], how="vertical").sort(
        ["agency", "ref"]
    )
    repeated = (pl.col("agency") == pl.col("agency").shift()) & (
        pl.col("ref") == pl.col("ref").shift()
    )
    if frame.height and frame.select(repeated.any()).item():  # sorted: repeats are adjacent
        raise LinkageError(
            "the same record ref appears twice for one agency (file uploaded twice?)",
            column="ref",
            reason="duplicate",
        )
    arrays = LinkageArrays.from_frame(frame, files[0].header.encoding.bits)
    fields = FieldArrays.from_frame(frame)
    prepare_s = perf_counter() - t

    result = link_arrays(
        arrays,
        threshold=threshold,
        blocking=blocking,
        fields=fields,
        match_probability=match_probability,
        on_stage=stage,
    )

    stage("cases")
    t = perf_counter()
    strength = result.strength if result.strength is not None else np.zeros(frame.height)
    records = frame.select("agency", "ref", "signal", "signal_date").with_columns(
        cluster_id=pl.Series(result.labels, dtype=pl.Int64),
        strength=pl.Series(STRENGTH_NAMES, dtype=pl.Utf8).gather(strength.astype(np.int64)),
    )
    cases = cases_from_sorted(records, k=k, window_from=window_from, window_to=window_to)
    n_cases = int(cast(int, cases["case_id"].rle_id().max())) + 1 if cases.height else 0
    cases_s = perf_counter() - t

    timings = {"prepare_s": prepare_s, **result.timings, "cases_s": cases_s}
    timings["total_s"] = perf_counter() - started
    stats = LinkageStats(
        records=frame.height,
        agencies=frame["agency"].n_unique(),
        clusters=int(result.labels.max()) + 1 if result.labels.size else 0,
        cases=n_cases,
        links=result.links,
        timings=timings,
        compile_s=compile_s,
    )
    return LinkageResult(
        clusters=records.select("agency", "ref", "cluster_id"),
        cases=cases,
        stats=stats,
    )
