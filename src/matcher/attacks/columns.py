"""Which columns the suite attacks, and reading them generically.

Attacks are written over two shapes of a hashed frame's columns, never over named columns: a
*token column* (``UInt64`` or ``List(UInt64)``: keyed tokens, blocking values) and a *Bloom column*
(``Binary``: fixed-length encodings). A new keyed column is attacked by adding one
:class:`AttackColumn` line to :data:`MATCHER_COLUMNS`; ``truth`` says what recovering it means
(``pnr``: the identity number; ``name``: first given name and surname; ``first``, ``surname``: one
name field, for field-level columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

__all__ = [
    "BASELINE_COLUMNS",
    "MATCHER_COLUMNS",
    "AttackColumn",
    "bloom_bits",
    "token_lists",
]

Shape = Literal["tokens", "bloom"]
Truth = Literal["pnr", "name", "first", "surname"]


@dataclass(frozen=True)
class AttackColumn:
    """One column to attack: its name in the frame, its shape and what recovering it reveals."""

    name: str
    shape: Shape
    truth: Truth


#: matcher's hashed-file columns (``matcher.steward.hashed_file.HASHED_SCHEMA``), the field-level
#: ones of the comparison model (``matcher.steward.fields``) included.
MATCHER_COLUMNS: tuple[AttackColumn, ...] = (
    AttackColumn("id_token", "tokens", "pnr"),
    AttackColumn("name_tokens", "tokens", "name"),
    AttackColumn("block_tokens", "tokens", "name"),
    AttackColumn("bloom", "bloom", "name"),
    AttackColumn("given_words", "tokens", "first"),
    AttackColumn("surname_words", "tokens", "surname"),
    AttackColumn("given_sounds", "tokens", "first"),
    AttackColumn("surname_sounds", "tokens", "surname"),
    AttackColumn("given_bloom", "bloom", "first"),
    AttackColumn("surname_bloom", "bloom", "surname"),
)

#: The weak baselines' columns (``matcher.attacks.baselines``).
BASELINE_COLUMNS: tuple[AttackColumn, ...] = (
    AttackColumn("sha256_pnr", "tokens", "pnr"),
    AttackColumn("clk_bloom", "bloom", "name"),
    AttackColumn("first_bloom", "bloom", "first"),
    AttackColumn("surname_bloom", "bloom", "surname"),
)


def token_lists(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """A token column as CSR: record ``i`` holds ``values[offsets[i]:offsets[i + 1]]`` (uint64).

    A ``UInt64`` column is a list of one token per record (none where null).
    """
    if series.dtype == pl.List(pl.UInt64):
        lengths = series.list.len().fill_null(0).to_numpy().astype(np.int64)
        values = series.explode().drop_nulls().to_numpy().astype(np.uint64)
    else:
        lengths = series.is_not_null().cast(pl.Int64).to_numpy()
        values = series.drop_nulls().cast(pl.UInt64).to_numpy().astype(np.uint64)
    offsets = np.zeros(len(series) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets, values


def bloom_bits(series: pl.Series) -> np.ndarray:
    """A Bloom column as a ``uint8[n, bits]`` 0/1 matrix (bit ``j`` of byte ``j >> 3``, little
    end first, as matcher writes them); a null row is all zeros."""
    width = max((len(v) for v in series.drop_nulls().to_list()), default=0)
    blob = b"".join(v if v is not None else bytes(width) for v in series.to_list())
    data = np.frombuffer(blob, np.uint8).reshape(len(series), width)
    return np.unpackbits(data, axis=1, bitorder="little")
