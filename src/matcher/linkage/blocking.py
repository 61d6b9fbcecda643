"""Candidate blocks for the fuzzy pass: records that share a keyed blocking value.

Only records in one block are ever compared, so the cost grows with the block sizes, not with
the square of the list sizes. Blocks larger than ``max_block`` (a blocking value shared by very
many children, e.g. newly arrived children all registered with the default birth date 01-01)
are not compared in full: each is cut into small tiles by sorted neighbourhood over
bit-sampling LSH keys of the encodings (``_kernels.split_oversize``), ``passes`` times with
different bit samples, so an oversize block of ``m`` records costs about
``m * passes * tile`` comparisons instead of ``m**2 / 2``. A pair is compared once, in the
first ordinary block it shares; pairs that meet only in tiles may meet more than once and are
deduplicated by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher._numba_config import threads_for
from matcher.errors import LinkageError
from matcher.kernels import linkage as _kernels

#: Hard ceiling on ``max_block``: a block's pairs are buffered at once (16 bytes per pair).
MAX_BLOCK_LIMIT = 4096


@dataclass(frozen=True)
class BlockingParams:
    """How blocks are formed and how oversize blocks are cut (see the module docstring)."""

    max_block: int = 2000
    tile: int = 256
    passes: int = 8
    seed: int = 0x5EED

    def check(self) -> None:
        """Refuse sizes that would blow up memory or make no sense (before any allocation)."""
        if not 2 <= self.max_block <= MAX_BLOCK_LIMIT:
            raise LinkageError(
                f"max_block must be between 2 and {MAX_BLOCK_LIMIT}", reason="max_block"
            )
        if not 4 <= self.tile <= MAX_BLOCK_LIMIT:
            raise LinkageError(f"tile must be between 4 and {MAX_BLOCK_LIMIT}", reason="tile")
        if not 0 <= self.passes <= 64:
            raise LinkageError("passes must be between 0 and 64", reason="passes")
        if not 0 <= self.seed < 2**63:
            raise LinkageError("seed must be a non-negative 63-bit integer", reason="seed")


@dataclass(frozen=True)
class Blocks:
    """Blocks as one flat member array; blocks ``0..listed-1`` are ordinary, the rest tiles.

    ``rec_offsets``/``rec_blocks`` list, per record, the ordinary blocks it belongs to in
    ascending order (used to compare each pair in its first shared block only).
    """

    members: np.ndarray
    starts: np.ndarray
    rec_offsets: np.ndarray
    rec_blocks: np.ndarray
    listed: int
    oversize: int
    oversize_records: int

    @property
    def count(self) -> int:
        """Number of blocks, ordinary and tiles."""
        return int(self.starts.size - 1)

    def pair_capacity(self) -> np.ndarray:
        """Pairs per block, ``m * (m - 1) / 2`` (an upper bound on its comparisons)."""
        sizes = np.diff(self.starts)
        return sizes * (sizes - 1) // 2


def build_blocks(
    offsets: np.ndarray,
    values: np.ndarray,
    eligible: np.ndarray,
    bits: np.ndarray,
    nbits: int,
    params: BlockingParams,
) -> Blocks:
    """Group eligible records by shared blocking token; cut oversize blocks into LSH tiles.

    ``offsets``/``values`` hold each record's blocking tokens (CSR: record ``r`` has
    ``values[offsets[r]:offsets[r + 1]]``); ``eligible`` marks records with an encoding.
    """
    params.check()
    n = eligible.size
    if offsets.shape != (n + 1,) or bits.ndim != 2 or bits.shape[0] != n:
        raise LinkageError("blocking arrays disagree on the number of records", reason="shape")
    if values.dtype != np.uint64 or offsets.dtype != np.int64 or eligible.dtype != np.bool_:
        raise LinkageError("blocking tokens must be uint64 with int64 offsets", reason="dtype")
    if bits.dtype != np.uint64 or not 1 <= nbits <= 64 * bits.shape[1]:
        raise LinkageError("encodings must be packed uint64 rows of nbits bits", reason="bits")
    lengths = np.diff(offsets)
    owners = np.repeat(np.arange(n, dtype=np.int64), lengths)
    keep = eligible[owners]
    with threads_for(int(keep.sum())):
        tokens, owners = _kernels.sort_tokens(values[keep], owners[keep])
    if tokens.size:
        fresh = np.ones(tokens.size, dtype=bool)
        fresh[1:] = (tokens[1:] != tokens[:-1]) | (owners[1:] != owners[:-1])
        tokens, owners = tokens[fresh], owners[fresh]
    if tokens.size:
        bounds = np.flatnonzero(np.r_[True, tokens[1:] != tokens[:-1], True])
    else:
        bounds = np.zeros(1, dtype=np.int64)
    sizes = np.diff(bounds)
    block_of = np.repeat(np.arange(sizes.size), sizes)
    ordinary = (sizes >= 2) & (sizes <= params.max_block)
    over = np.flatnonzero(sizes > params.max_block)

    members = owners[ordinary[block_of]]
    listed = int(ordinary.sum())
    starts = np.r_[0, np.cumsum(sizes[ordinary])].astype(np.int64)

    # per record, its ordinary blocks in ascending order (members are grouped by block)
    by_record = np.argsort(members, kind="stable")
    rec_blocks = np.repeat(np.arange(listed, dtype=np.int64), sizes[ordinary])[by_record]
    rec_offsets = np.r_[0, np.cumsum(np.bincount(members, minlength=n))].astype(np.int64)

    tile_members, tile_starts = np.zeros(0, np.int64), np.zeros(1, np.int64)
    if params.passes and over.size:
        tiled = int(sizes[over].sum())
        with threads_for(tiled * params.passes * params.tile):
            tile_members, tile_starts = _kernels.split_oversize_blocks(
                owners, bounds, over.astype(np.int64), bits, nbits,
                params.passes, params.tile, params.seed,
            )  # fmt: skip
    all_members = np.concatenate([members, tile_members]).astype(np.int64)
    all_starts = np.concatenate([starts, tile_starts[1:] + members.size]).astype(np.int64)
    return Blocks(
        members=all_members,
        starts=all_starts,
        rec_offsets=rec_offsets,
        rec_blocks=rec_blocks,
        listed=listed,
        oversize=int(over.size),
        oversize_records=int(sizes[over].sum()) if over.size else 0,
    )
