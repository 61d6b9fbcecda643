"""Field-level keyed evidence for the comparison model: one comparable value per name part and date.

The record-level tokens (`steward.tokens`) and the record-level Bloom filter (`steward.encodings`)
link a record only when most of it agrees. The comparison model (`linkage.comparison`) instead
weighs each field on its own, so one error (a typo in the birth year, a transliterated surname,
swapped names, a missing date) costs one field's weight, not the link. For that the coordinator
needs each field comparable on its own, still keyed:

===================  ==================  ====================================================
column               type                what (every value keyed by its own round sub-key)
===================  ==================  ====================================================
id_kind              UInt8, nullable     1 personnummer, 2 samordningsnummer (of ``id_token``)
given_words          List(UInt64)        ``HMAC(K_field/word, name)`` per given name (≤ 3)
surname_words        List(UInt64)        the same key per surname part (≤ 3): a given name
                                         equal to a surname part shows a swap
given_sounds         List(UInt64)        ``HMAC(K_field/sound, sound_key(name))`` per given name
surname_sounds       List(UInt64)        the same per surname part (`steward.sounds`)
date_parts           List(UInt64)        ``HMAC(K_field/date, tag, a, b)`` for (year, month),
                                         (year, day), (month, day): one shared part pair means
                                         the dates differ in at most one part; empty if unknown
given_bloom          Binary, nullable    unsalted keyed Bloom filter of the given names' bigrams
surname_bloom        Binary, nullable    the same for the surname parts
===================  ==================  ====================================================

What it adds for an attacker (README threat model): within one round, equal names give equal
words, so the coordinator can count how often each (unknown) name occurs and align the most
frequent words with public name statistics; the per-field Bloom filters are unsalted so that a
birth-year typo does not hide a name, and carry the diffusion layer against q-gram pattern
mining. Sub-keys differ per round, so nothing is comparable across rounds.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from matcher.steward.encodings import BloomEncoder
from matcher.steward.hashed_file import EncodingParams
from matcher.steward.keys import RoundKeys
from matcher.steward.sounds import sound_keys
from matcher.steward.tokens import (
    MAX_GIVEN_NAMES,
    MAX_SURNAME_PARTS,
    HmacKey,
    NameColumns,
    list_column,
    list_series,
)

__all__ = [
    "DATE_PART_TAGS",
    "FIELD_BLOOM_BITS",
    "FIELD_COLUMNS",
    "FieldEncoder",
    "field_bloom_params",
]

#: Length of each per-field Bloom filter (bits) and bits set per bigram.
FIELD_BLOOM_BITS = 256
FIELD_BLOOM_HASHES = 8
#: Tags of the three part-pair date tokens: (year, month), (year, day), (month, day).
DATE_PART_TAGS = (0xD1, 0xD2, 0xD3)
_SOUND_BLOCK_TAG = np.uint64(0x5B)
FIELD_COLUMNS: tuple[str, ...] = (
    "id_kind",
    "given_words",
    "surname_words",
    "given_sounds",
    "surname_sounds",
    "date_parts",
    "given_bloom",
    "surname_bloom",
)


def field_bloom_params(field: str) -> EncodingParams:
    """Encoding of one name field alone: unsalted (a year typo must not hide the name), diffused."""
    return EncodingParams(
        bits=FIELD_BLOOM_BITS,
        hashes_per_field={field: FIELD_BLOOM_HASHES},
        salt="none",
        hardening=["diffusion"],
    )


class FieldEncoder:
    """Computes the field-level columns of chunks of normalised records under one round's keys."""

    def __init__(self, keys: RoundKeys) -> None:
        self._word = HmacKey(keys.subkey("field/word"))
        self._sound = HmacKey(keys.subkey("field/sound"))
        self._date = HmacKey(keys.subkey("field/date"))
        self._block = HmacKey(keys.subkey("field/sound-block"))
        self._given = BloomEncoder(keys, field_bloom_params("given"), key_prefix="field-bf")
        self._surname = BloomEncoder(keys, field_bloom_params("surname"), key_prefix="field-bf")
        self._last: tuple[pl.Series, tuple[np.ndarray, np.ndarray]] | None = None

    def _name_words(self, names: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        """Keyed word and keyed sound key of each name of the (shared, distinct) name table."""
        if self._last is not None and self._last[0] is names:
            return self._last[1]
        words = self._word.strings(names)
        sounds = self._sound.strings(sound_keys(names).fill_null(""))
        self._last = (names, (words, sounds))
        return words, sounds

    def encode(self, names: NameColumns, dates: np.ndarray, id_kinds: np.ndarray) -> pl.DataFrame:
        """The FIELD_COLUMNS for records with folded ``names``, packed birth ``dates``
        (`tokens.date_words`) and identity-number kinds (0 none, 1 pnr, 2 snr)."""
        words, sounds = self._name_words(names.names)
        given_counts = np.diff(names.given_off)
        part_counts = np.diff(names.part_off)
        kind = pl.Series("id_kind", id_kinds.astype(np.uint8)).set(
            pl.Series(id_kinds == 0), None
        )
        given_bloom = self._given.encode(names, np.zeros_like(dates)).alias("given_bloom")
        surname_bloom = self._surname.encode(names, np.zeros_like(dates)).alias("surname_bloom")
        return pl.DataFrame(
            [
                kind,
                list_series(given_counts, words[names.given_idx], "given_words"),
                list_series(part_counts, words[names.part_idx], "surname_words"),
                list_series(given_counts, sounds[names.given_idx], "given_sounds"),
                list_series(part_counts, sounds[names.part_idx], "surname_sounds"),
                self._date_parts(dates),
                given_bloom,
                surname_bloom,
            ]
        )

    def sound_blocks(self, names: NameColumns) -> pl.Series:
        """Blocking tokens of each record's given-name and surname-part sound keys as unordered
        pairs, ``HMAC(K_field/sound-block, tag, min(a, b), max(a, b))``: records without a birth
        date, or with a transliterated or swapped name, still meet their match in a block."""
        _, sounds = self._name_words(names.names)
        given_counts = np.diff(names.given_off)
        part_counts = np.diff(names.part_off)
        n = given_counts.size
        out = np.zeros((n, MAX_GIVEN_NAMES * MAX_SURNAME_PARTS), np.uint64)
        counts = np.zeros(n, np.int64)
        table = np.int64(len(sounds) + 1)
        for g in range(MAX_GIVEN_NAMES):
            for p in range(MAX_SURNAME_PARTS):
                has = np.flatnonzero((given_counts > g) & (part_counts > p))
                if not has.size:
                    continue
                gi = names.given_idx[names.given_off[has] + g]
                pi = names.part_idx[names.part_off[has] + p]
                # one HMAC per distinct (given name, surname part) of the name table
                pair, inverse = np.unique(gi * table + pi, return_inverse=True)
                a, b = sounds[pair // table], sounds[pair % table]
                rows = np.stack(
                    [np.full(pair.size, _SOUND_BLOCK_TAG), np.minimum(a, b), np.maximum(a, b)],
                    axis=1,
                )
                out[has, counts[has]] = self._block.words(rows)[inverse.reshape(-1)]
                counts[has] += 1
        return list_column(out, counts, "sound_blocks")

    def _date_parts(self, dates: np.ndarray) -> pl.Series:
        """Three keyed part-pair tokens per known birth date, none for an unknown one."""
        known = dates != 0
        distinct, inverse = np.unique(dates[known], return_inverse=True)
        year = distinct >> np.uint64(16)
        month = (distinct >> np.uint64(8)) & np.uint64(0xFF)
        day = distinct & np.uint64(0xFF)
        parts = np.zeros((distinct.size, 3), np.uint64)
        for k, (tag, a, b) in enumerate(
            zip(DATE_PART_TAGS, (year, year, month), (month, day, day), strict=True)
        ):
            rows = np.stack([np.full(distinct.size, np.uint64(tag)), a, b], axis=1)
            parts[:, k] = self._date.words(rows) if distinct.size else parts[:, k]
        flat = parts[inverse.reshape(-1)].reshape(-1)
        return list_series(known.astype(np.int64) * 3, flat, "date_parts")
