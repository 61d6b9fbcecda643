"""Deliberately weak encodings, so each attack is shown to work before it is run on matcher.

* ``sha256_pnr``: unkeyed SHA-256 of the 12-digit identity number (first 8 bytes, little end),
  what a naive tool would do.
* ``clk_bloom``: a clkhash-style record-level Bloom filter (Schnell, Bachteler & Reiher 2009;
  the CLK of Schnell et al. 2011): padded bigrams of the first given name and the surname, ``k``
  positions per bigram by double hashing ``h1 + i * h2 mod l`` with keyed HMAC-SHA1 and HMAC-MD5
  (as clkhash did before v0.16), 1024 bits, one key for all fields, no salt, no diffusion.
* ``first_bloom``, ``surname_bloom``: field-level Bloom filters of one name each, built the same
  way.

The keys are random and unknown to the attacker, as in the papers: the attacks on Bloom filters
never need them. Encoded in numpy per distinct value (no clkhash dependency).
"""

from __future__ import annotations

import hashlib
import hmac
import os

import numpy as np
import polars as pl

from matcher.attacks.population import Population

__all__ = ["BITS", "HASHES", "baseline_frame", "bigrams", "sha256_tokens"]

BITS = 1024
HASHES = 20
_PAD = "_"


def bigrams(value: str) -> set[str]:
    """Padded bigrams of a value ("ab" -> _a, ab, b_); none for an empty value."""
    if not value:
        return set()
    padded = f"{_PAD}{value}{_PAD}"
    return {padded[j : j + 2] for j in range(len(padded) - 1)}


def sha256_tokens(pnr: np.ndarray) -> pl.Series:
    """Unkeyed SHA-256 of each identity number as ``UInt64`` (null without a number)."""
    out = [
        int.from_bytes(hashlib.sha256(p.encode()).digest()[:8], "little") if p else None
        for p in pnr
    ]
    return pl.Series("sha256_pnr", out, dtype=pl.UInt64)


class _DoubleHash:
    """Bit positions of a bigram by clkhash's double hashing, cached per bigram."""

    def __init__(self, key1: bytes, key2: bytes) -> None:
        self._key1, self._key2 = key1, key2
        self._cache: dict[str, np.ndarray] = {}

    def positions(self, gram: str) -> np.ndarray:
        found = self._cache.get(gram)
        if found is None:
            h1 = int.from_bytes(hmac.new(self._key1, gram.encode(), hashlib.sha1).digest(), "big")
            h2 = int.from_bytes(hmac.new(self._key2, gram.encode(), hashlib.md5).digest(), "big")
            found = np.array([(h1 + i * h2) % BITS for i in range(HASHES)], np.int64)
            self._cache[gram] = found
        return found

    def filters(self, values: list[str]) -> np.ndarray:
        """``uint8[n, BITS]`` 0/1 filters of each value's bigrams (once per distinct value)."""
        distinct = {v: i for i, v in enumerate(dict.fromkeys(values))}
        table = np.zeros((len(distinct), BITS), np.uint8)
        for value, row in distinct.items():
            for gram in bigrams(value):
                table[row, self.positions(gram)] = 1
        return table[np.array([distinct[v] for v in values], np.int64)]


def _binary(bits: np.ndarray, name: str) -> pl.Series:
    """0/1 rows as a Binary column in matcher's bit order."""
    packed = np.packbits(bits, axis=1, bitorder="little")
    return pl.Series(name, [row.tobytes() for row in packed], dtype=pl.Binary)


def baseline_frame(population: Population, *, seed: bytes | None = None) -> pl.DataFrame:
    """The weak baselines' columns for a population (keys from ``seed``, random without one)."""
    key = seed if seed is not None else os.urandom(32)
    hasher = _DoubleHash(key + b"1", key + b"2")
    first = [str(v) for v in population.first]
    surname = [str(v) for v in population.surname]
    first_bits = hasher.filters(first)
    surname_bits = hasher.filters(surname)
    return pl.DataFrame(
        [
            sha256_tokens(population.pnr),
            _binary(first_bits | surname_bits, "clk_bloom"),
            _binary(first_bits, "first_bloom"),
            _binary(surname_bits, "surname_bloom"),
        ]
    )
