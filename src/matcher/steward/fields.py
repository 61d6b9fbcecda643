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
given_words          List(UInt64)        ``HMAC(K_field/word, tag, word(g), sound(p))`` for
                                         each given name g (≤ 3) and surname part p (≤ 3)
surname_words        List(UInt64)        ``HMAC(K_field/word, tag, word(p), sound(g))``: the
                                         same key, so a given name equal to a surname part of
                                         a record whose names are swapped agrees
given_sounds         List(UInt64)        ``HMAC(K_field/sound, tag, sound(g), sound(p))``
surname_sounds       List(UInt64)        ``HMAC(K_field/sound, tag, sound(p), sound(g))``
date_parts           List(UInt64)        ``HMAC(K_field/date, tag, a, b)`` for (year, month),
                                         (year, day), (month, day): one shared part pair means
                                         the dates differ in at most one part; empty if unknown
given_bloom          Binary, nullable    keyed Bloom filter of the given names' bigrams,
                                         salted with the surname's initial
surname_bloom        Binary, nullable    the same for the surname, salted by the given name
===================  ==================  ====================================================

Hardening, measured by the attack suite (`matcher.attacks`, docs/privacy-attacks.md): a keyed
but unsalted word per name lets the coordinator count how often each (unknown) name occurs and
align the most frequent ones with public name statistics; at 20,000 records that recovered 11 %
of surnames (4.3x chance) from unsalted surname words and 10 % from unsalted surname filters. So
no name is comparable on its own: each name's word, sound key and filter is salted with the
other name field (its sound key; its initial for the filters), and a full name is far rarer
than either part. Not the birth year, which a typo or a missing date would change: a record
without a birth date still compares by name, and a typo in one name field keeps the other field's
salt. What is lost: a given name agrees exactly only where the surnames sound alike (and the
reverse). Sub-keys differ per round, so nothing is comparable across rounds."""

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
_CROSSED_TAG = np.uint64(0xC5)
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
    """Encoding of one name field alone, salted with the other name field (see the module
    docstring: not the birth year, which a typo would change) and diffused."""
    return EncodingParams(
        bits=FIELD_BLOOM_BITS,
        hashes_per_field={field: FIELD_BLOOM_HASHES},
        salt="other_name",
        hardening=["salt", "diffusion"],
    )


def _salt_buckets(initials: np.ndarray, off: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Per record, the initial (1 .. 255) of its first name in a field, 0 when it has none: the
    salt of the other field's Bloom filter (an initial, not the sound key: a typo inside a name
    must not change the other name's filter)."""
    has = np.diff(off) > 0
    out = np.zeros(has.size, np.uint64)
    if idx.size:
        first = idx[np.minimum(off[:-1], idx.size - 1)]
        out[has] = initials[first[has]]
    return out


def _initials(names: pl.Series) -> np.ndarray:
    """The first letter of each name of the table as a small number (1 .. 255)."""
    codes = names.str.slice(0, 1).str.encode("hex").fill_null("")
    return np.array([int(c[:2] or "0", 16) or 1 for c in codes.to_list()], np.uint64)


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
        initials = _initials(names.names)
        kind = pl.Series("id_kind", id_kinds.astype(np.uint8)).set(pl.Series(id_kinds == 0), None)
        given = (names.given_off, names.given_idx)
        parts = (names.part_off, names.part_idx)
        zeros = np.zeros_like(dates)
        given_bloom = self._given.encode(names, zeros, _salt_buckets(initials, *parts))
        surname_bloom = self._surname.encode(names, zeros, _salt_buckets(initials, *given))
        return pl.DataFrame(
            [
                kind,
                *self._crossed(names, words, sounds, initials),
                self._date_parts(dates),
                given_bloom.alias("given_bloom"),
                surname_bloom.alias("surname_bloom"),
            ]
        )

    def _crossed(
        self, names: NameColumns, words: np.ndarray, sounds: np.ndarray, initials: np.ndarray
    ) -> list[pl.Series]:
        """The four salted name columns: for each given name g and surname part p of a record,
        ``HMAC(K_field/word, tag, word(g), initial(p))`` (given_words), ``HMAC(K_field/word, tag,
        word(p), initial(g))`` (surname_words), and the same with sound keys salted by the other
        sound key under ``K_field/sound``; a field whose other field is empty is salted with 0.
        One pass over the (g, p) pairs, one HMAC per distinct pair of the name table."""
        g_off, g_idx, p_off, p_idx = (
            names.given_off,
            names.given_idx,
            names.part_off,
            names.part_idx,
        )
        g_n, p_n = np.diff(g_off), np.diff(p_off)
        n = g_n.size
        width = MAX_GIVEN_NAMES * MAX_SURNAME_PARTS
        out = [np.zeros((n, width), np.uint64) for _ in range(4)]
        count_g = np.zeros(n, np.int64)
        count_s = np.zeros(n, np.int64)
        table = np.int64(len(words) + 1)
        zero = np.uint64(0)

        def salted(key: HmacKey, value: np.ndarray, salt: np.ndarray) -> np.ndarray:
            tag = np.full(value.size, _CROSSED_TAG)
            return key.words(np.stack([tag, value, salt], axis=1))

        for a in range(MAX_GIVEN_NAMES):
            for b in range(MAX_SURNAME_PARTS):
                # given name a of each record with its surname part b (or, b = 0, with none),
                # and surname part b with given name a (or with none)
                for side in ("both", "given_only", "surname_only"):
                    if side == "both":
                        has = np.flatnonzero((g_n > a) & (p_n > b))
                    elif side == "given_only":
                        has = np.flatnonzero((g_n > a) & (p_n == 0) & (b == 0))
                    else:
                        has = np.flatnonzero((p_n > b) & (g_n == 0) & (a == 0))
                    if not has.size:
                        continue
                    gi = g_idx[g_off[has] + a] if side != "surname_only" else np.full(has.size, -1)
                    pi = p_idx[p_off[has] + b] if side != "given_only" else np.full(has.size, -1)
                    pair, inverse = np.unique((gi + 1) * table + (pi + 1), return_inverse=True)
                    inverse = inverse.reshape(-1)
                    g_u, p_u = pair // table - 1, pair % table - 1
                    g_ok, p_ok = g_u >= 0, p_u >= 0
                    gw = np.where(g_ok, words[np.maximum(g_u, 0)], zero)
                    gs = np.where(g_ok, sounds[np.maximum(g_u, 0)], zero)
                    gin = np.where(g_ok, initials[np.maximum(g_u, 0)], zero)
                    pw = np.where(p_ok, words[np.maximum(p_u, 0)], zero)
                    ps = np.where(p_ok, sounds[np.maximum(p_u, 0)], zero)
                    pin = np.where(p_ok, initials[np.maximum(p_u, 0)], zero)
                    if side != "surname_only":
                        out[0][has, count_g[has]] = salted(self._word, gw, pin)[inverse]
                        out[2][has, count_g[has]] = salted(self._sound, gs, ps)[inverse]
                        count_g[has] += 1
                    if side != "given_only":
                        out[1][has, count_s[has]] = salted(self._word, pw, gin)[inverse]
                        out[3][has, count_s[has]] = salted(self._sound, ps, gs)[inverse]
                        count_s[has] += 1
        names_of = ("given_words", "surname_words", "given_sounds", "surname_sounds")
        counts = (count_g, count_s, count_g, count_s)
        return [list_column(o, c, name) for o, c, name in zip(out, counts, names_of, strict=True)]

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
