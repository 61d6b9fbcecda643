"""Hardened keyed Bloom-filter encodings of names and birth date (one record-level filter).

What goes in (Schnell, Bachteler & Reiher 2009; CLK, Schnell et al. 2011): padded q-grams
(bigrams by default) of every folded given name (field ``given``) and every folded surname part
(``surname``), and the birth year, month and day as three tokens (``birth_date``). Each field has
its own HKDF sub-key, so the same q-gram in two fields sets unrelated bits (as clkhash does).

Bit selection, keyed random hashing (not double hashing, whose ``h2 mod l = 0`` artefact sets a
single bit: clkhash issue #33): the ``k`` positions of a q-gram are 32-bit halves of
``SipHash-2-4(K_field, salt, gram_word0, gram_word1, counter)`` modulo the length, i.e. a keyed
PRF of the q-gram, so without the round secret nobody can compute which bits a q-gram sets.

Hardening, recorded in :class:`~matcher.hashed_file.EncodingParams`:

* ``salt``: every q-gram is salted with the record's birth year (attribute-specific salting,
  Chen, Schnell, Armknecht & Heng, ICISSP 2022: "salt-YOB" defeats pattern-mining attacks and
  cuts graph-matching success). Identical names of people born in different years share no bits.
  A record without a birth date uses salt 0 (it can only match others without one).
* ``diffusion``: a linear diffusion layer after Armknecht, Heng & Schnell, "Privacy-Preserving
  Record Linkage Using Bloom Filters with a Diffusion Layer", PoPETs 2023(2):298-311: each output
  bit is the XOR of ``t = diffusion_taps`` input bits, so no output bit is the indicator of one
  q-gram, which breaks the bit-pattern and frequency analysis the attacks rely on. Here the ``t``
  taps are keyed rotations (output bit ``j`` = XOR of input bits ``j + s_r mod l`` for secret
  offsets ``s_r``), a circulant variant of the layer that runs word-parallel. It also pulls the
  fill towards one half (about half the bits set, as the clkhash research note recommends).

The encoding is ``bits / 8`` bytes; bit ``j`` is ``(byte[j >> 3] >> (j & 7)) & 1`` (the bytes of
little-endian ``uint64`` words). Dice similarity of two encodings tracks the similarity of the
names and dates behind them; see tests/test_encodings.py.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import polars as pl
import pyarrow as pa

from matcher import _hash_kernels as kernels
from matcher.errors import ConfigError
from matcher.hashed_file import EncodingParams
from matcher.keys import RoundKeys
from matcher.tokens import NameColumns

__all__ = [
    "FIELDS",
    "BloomEncoder",
    "dice",
    "pack_qgram",
    "qgrams",
]

FIELDS: tuple[str, ...] = ("given", "surname", "birth_date")
SCHEME = "keyed-random-hash-v1"
_HARDENING = {"salt", "diffusion"}
_SALTS = {"birth_year", "none"}
_PAD = 0x110001  # beyond the last Unicode code point: the q-gram padding symbol
_MAX_K = 64
#: Largest position cache (salts × grams × k entries) before a chunk is split in two.
_MAX_CACHE = 1 << 25


def qgrams(name: str, q: int) -> list[tuple[int, ...]]:
    """Padded q-grams of a name as code-point tuples ("ab", 2 → ␣a, ab, b␣)."""
    cps = [_PAD, *(ord(c) for c in name), _PAD]
    if len(cps) < q:
        return [tuple(cps)]
    return [tuple(cps[j : j + q]) for j in range(len(cps) - q + 1)]


def pack_qgram(gram: tuple[int, ...]) -> tuple[int, int]:
    """Two 64-bit words holding a q-gram (up to 6 code points, 21 bits each) injectively."""
    words = [0, 0]
    for j, cp in enumerate(gram):
        words[j // 3] |= (cp + 1) << (21 * (j % 3))
    return words[0], words[1]


def dice(a: bytes, b: bytes) -> float:
    """Dice coefficient of two encodings (tests and diagnostics; the linkage core has its own)."""
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    total = x.bit_count() + y.bit_count()
    return 2 * (x & y).bit_count() / total if total else 0.0


def check_params(params: EncodingParams) -> None:
    """Refuse encoding parameters this version cannot produce (ConfigError, naming the field)."""
    if params.scheme != SCHEME:
        raise ConfigError(
            f"unknown encoding scheme; this matcher writes {SCHEME!r}", reason="scheme"
        )
    if params.bits % 64:
        raise ConfigError("encoding length must be a multiple of 64 bits", reason="bits")
    unknown = set(params.hashes_per_field) - set(FIELDS)
    if unknown:
        raise ConfigError(f"unknown encoded fields {sorted(unknown)}", reason="fields")
    if any(not 0 <= k <= _MAX_K for k in params.hashes_per_field.values()):
        raise ConfigError(f"bits per q-gram must be 0 to {_MAX_K}", reason="hashes")
    if not any(params.hashes_per_field.values()):
        raise ConfigError("at least one field must be encoded", reason="hashes")
    if set(params.hardening) - _HARDENING:
        raise ConfigError(f"hardening steps must be among {sorted(_HARDENING)}", reason="hardening")
    if params.salt not in _SALTS:
        raise ConfigError(f"salt must be one of {sorted(_SALTS)}", reason="salt")


class BloomEncoder:
    """Encodes chunks of normalised records into hardened Bloom filters under one round's keys."""

    def __init__(self, keys: RoundKeys, params: EncodingParams) -> None:
        check_params(params)
        self.params = params
        self._k = np.array([params.hashes_per_field.get(f, 0) for f in FIELDS], np.int64)
        self._field_keys = np.array(
            [keys.sip_key(f"bf/{f}") for f in FIELDS], dtype=np.uint64
        ).reshape(len(FIELDS), 2)
        self._offsets = self._diffusion_offsets(keys.subkey("bf/diffusion"))
        self._packed: dict[str, list[tuple[int, int]]] = {}

    def _diffusion_offsets(self, key: bytes) -> np.ndarray:
        """``diffusion_taps`` distinct secret rotation offsets in ``[1, bits)``."""
        taps = min(self.params.diffusion_taps, self.params.bits - 1)
        chosen: list[int] = []
        counter = 0
        while len(chosen) < taps:
            digest = hmac.new(key, counter.to_bytes(8, "little"), hashlib.sha256).digest()
            counter += 1
            value = int.from_bytes(digest[:8], "little") % (self.params.bits - 1) + 1
            if value not in chosen:
                chosen.append(value)
        return np.array(chosen, dtype=np.int64)

    def _grams(self, name: str) -> list[tuple[int, int]]:
        packed = self._packed.get(name)
        if packed is None:
            packed = [pack_qgram(g) for g in qgrams(name, self.params.qgram)]
            self._packed[name] = packed
        return packed

    def encode(self, names: NameColumns, dates: np.ndarray) -> pl.Series:
        """The ``bloom`` column (Binary, ``bits / 8`` bytes, null for a record with nothing to
        encode) for records with folded ``names`` and packed birth ``dates`` (tokens.date_words).
        """
        n = len(dates)
        bits = self._encode_bits(names, dates, 0, n)
        if "diffusion" in self.params.hardening:
            diffused = np.empty_like(bits)
            kernels.diffuse(bits, self._offsets, diffused)
            bits = diffused
        has = (np.diff(names.given_off) > 0) & (self._k[0] > 0)
        has |= (np.diff(names.part_off) > 0) & (self._k[1] > 0)
        has |= (dates != 0) & (self._k[2] > 0)
        nbytes = self.params.bits // 8
        arr = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(nbytes), n, [None, pa.py_buffer(np.ascontiguousarray(bits).tobytes())]
        )
        col = pl.Series("bloom", arr.cast(pa.large_binary()), dtype=pl.Binary)
        return pl.select(pl.when(pl.lit(pl.Series(has))).then(col).alias("bloom")).to_series()

    def _encode_bits(self, names: NameColumns, dates: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Raw (pre-diffusion) filters of records ``lo:hi``; halved if the cache is big."""
        vocab: dict[tuple[int, int, int], int] = {}

        def gram_id(field: int, w0: int, w1: int) -> int:
            return vocab.setdefault((field, w0, w1), len(vocab))

        sources = []
        for field, off, idx in (
            (0, names.given_off, names.given_idx),
            (1, names.part_off, names.part_idx),
        ):
            if not self._k[field]:
                continue
            items = idx[off[lo] : off[hi]]
            item_off = np.zeros(len(names.names) + 1, np.int64)
            lengths = np.zeros(len(names.names), np.int64)
            grams: dict[int, list[int]] = {}
            for t in np.unique(items).tolist():
                grams[t] = [gram_id(field, w0, w1) for w0, w1 in self._grams(names.names[t])]
                lengths[t] = len(grams[t])
            np.cumsum(lengths, out=item_off[1:])
            item_gram = np.zeros(int(item_off[-1]), np.int64)
            for t, ids in grams.items():
                item_gram[item_off[t] : item_off[t + 1]] = ids
            sources.append((off[lo : hi + 1] - off[lo], items, item_off, item_gram))
        chunk_dates = dates[lo:hi]
        if self._k[2]:
            uniq, inverse = np.unique(chunk_dates, return_inverse=True)
            item_gram_list: list[int] = []
            for d in uniq.tolist():
                if d:
                    for tag, value in ((1, d >> 16), (2, (d >> 8) & 0xFF), (3, d & 0xFF)):
                        item_gram_list.append(gram_id(2, (tag << 32) | value, 0))
            lengths = np.where(uniq != 0, 3, 0).astype(np.int64)
            item_off = np.zeros(len(uniq) + 1, np.int64)
            np.cumsum(lengths, out=item_off[1:])
            rec_off = np.arange(hi - lo + 1, dtype=np.int64)
            sources.append(
                (rec_off, inverse.astype(np.int64), item_off, np.array(item_gram_list, np.int64))
            )
        salt_values = chunk_dates >> np.uint64(16)
        if "salt" not in self.params.hardening or self.params.salt == "none":
            salt_values = np.zeros_like(salt_values)
        salts, rec_salt = np.unique(salt_values, return_inverse=True)
        kmax = int(self._k.max())
        if len(salts) * max(len(vocab), 1) * kmax > _MAX_CACHE and hi - lo > 1:
            mid = (lo + hi) // 2
            return np.vstack(
                [self._encode_bits(names, dates, lo, mid), self._encode_bits(names, dates, mid, hi)]
            )
        gram_field = np.zeros(len(vocab), np.int64)
        gram_w0 = np.zeros(len(vocab), np.uint64)
        gram_w1 = np.zeros(len(vocab), np.uint64)
        for (field, w0, w1), g in vocab.items():
            gram_field[g], gram_w0[g], gram_w1[g] = field, w0, w1
        cache = np.zeros((len(salts), len(vocab), kmax), np.int16)
        filled = np.zeros((len(salts), len(vocab)), np.bool_)
        out = np.zeros((hi - lo, self.params.bits // 64), np.uint64)
        for rec_off, rec_item, item_off, item_gram in sources:
            kernels.bloom_bits(
                self._field_keys,
                self._k,
                gram_field,
                gram_w0,
                gram_w1,
                salts.astype(np.uint64),
                rec_salt.astype(np.int64),
                rec_off,
                rec_item,
                item_off,
                item_gram,
                cache,
                filled,
                out,
            )
        return out
