"""Hardened keyed Bloom-filter encodings of names and birth date (one record-level filter).

What goes in (Schnell, Bachteler & Reiher 2009; CLK, Schnell et al. 2011): padded q-grams
(bigrams by default) of every folded given name (field ``given``) and every folded surname part
(``surname``), and the birth year, month and day as three tokens (``birth_date``). Each field has
its own HKDF sub-key, so the same q-gram in two fields sets unrelated bits (as clkhash does).

Bit selection, keyed random hashing (not double hashing, whose ``h2 mod l = 0`` artefact sets a
single bit: clkhash issue #33): the ``k`` positions of a q-gram are 32-bit halves of
``SipHash-2-4(K_field, salt, gram_word0, gram_word1, counter)`` modulo the length, i.e. a keyed
PRF of the q-gram, so without the round secret nobody can compute which bits a q-gram sets.

Hardening, recorded in :class:`~matcher.steward.hashed_file.EncodingParams`:

* ``salt``: every q-gram is salted with the record's birth year (attribute-specific salting,
  Chen, Schnell, Armknecht & Heng, ICISSP 2022: "salt-YOB" defeats pattern-mining attacks and
  cuts graph-matching success). Identical names of people born in different years share no bits.
  A record without a birth date uses salt 0 (it can only match others without one).
* ``diffusion``: a linear diffusion layer after Armknecht, Heng & Schnell, "Privacy-Preserving
  Record Linkage Using Bloom Filters with a Diffusion Layer", PoPETs 2023(2):298-311: each output
  bit is the XOR of ``t = diffusion_taps`` input bits, so no output bit is the indicator of a
  single q-gram, which is what frequency and pattern-mining attacks exploit (the paper analyses
  the layer against those and graph-matching attacks). Here the ``t`` taps are keyed rotations
  (output bit ``j`` = XOR of input bits ``j + s_r mod l`` for secret offsets ``s_r``), a
  circulant variant of the paper's random layer that runs word-parallel; it is not the paper's
  exact construction. It also pulls the fill towards one half (about half the bits set, as the
  clkhash research note recommends; ~0.47-0.5 with the defaults, k = 20 bits per q-gram, t = 3).

Speed: per chunk, the bits of each (salt, q-gram) pair are computed once as a packed mask
(`_hash_kernels.gram_masks`); a record ORs its q-grams' masks word by word and is diffused in the
same pass (`_hash_kernels.bloom_bits`).

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

from matcher._arrow import utf8_buffers
from matcher._numba_config import use_parallel
from matcher.errors import ConfigError
from matcher.kernels import hashing as kernels
from matcher.steward.hashed_file import EncodingParams
from matcher.steward.keys import RoundKeys
from matcher.steward.tokens import NameColumns

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
_SALTS = {"birth_year", "none", "other_name"}
_PAD = 0x110001  # beyond the last Unicode code point: the q-gram padding symbol
_MAX_K = 64
#: Largest table of per-(salt, q-gram) bit masks before a chunk is split in two.
_MAX_MASK_BYTES = 256 << 20


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


def _unique_pairs(w0: np.ndarray, w1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``(w0, w1)`` pairs as ``uint64[m, 2]`` and each input's index among them."""
    if not w1.any():
        vocab, inverse = np.unique(w0, return_inverse=True)
        return np.stack([vocab, np.zeros_like(vocab)], axis=1), inverse.astype(np.int64)
    order = np.lexsort((w1, w0))
    a, b = w0[order], w1[order]
    new = np.ones(len(a), np.bool_)
    new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    inverse = np.empty(len(a), np.int64)
    inverse[order] = np.cumsum(new) - 1
    return np.stack([a[new], b[new]], axis=1), inverse


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

    def __init__(self, keys: RoundKeys, params: EncodingParams, *, key_prefix: str = "bf") -> None:
        """``key_prefix`` names the sub-keys (``<prefix>/<field>``): each use has its own keys."""
        check_params(params)
        self.params = params
        self._k = np.array([params.hashes_per_field.get(f, 0) for f in FIELDS], np.int64)
        self._field_keys = np.array(
            [keys.sip_key(f"{key_prefix}/{f}") for f in FIELDS], dtype=np.uint64
        ).reshape(len(FIELDS), 2)
        self._offsets = self._diffusion_offsets(keys.subkey(f"{key_prefix}/diffusion"))
        self._last_names: tuple[pl.Series, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

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

    def encode(
        self, names: NameColumns, dates: np.ndarray, record_salts: np.ndarray | None = None
    ) -> pl.Series:
        """The ``bloom`` column (Binary, ``bits / 8`` bytes, null for a record with nothing to
        encode) for records with folded ``names`` and packed birth ``dates`` (tokens.date_words).
        With salt ``other_name`` each record's salt is given in ``record_salts`` (a few hundred
        distinct values at most: the mask table grows with them).
        """
        n = len(dates)
        if (self.params.salt == "other_name") != (record_salts is not None):
            raise ConfigError(
                "record salts go with salt other_name, and only with it", reason="salt"
            )
        bits = self._encode_bits(names, dates, 0, n, record_salts)
        has = (np.diff(names.given_off) > 0) & (self._k[0] > 0)
        has |= (np.diff(names.part_off) > 0) & (self._k[1] > 0)
        has |= (dates != 0) & (self._k[2] > 0)
        nbytes = self.params.bits // 8
        offsets = np.arange(0, (n + 1) * nbytes, nbytes, dtype=np.int64)
        validity = pa.py_buffer(np.packbits(has, bitorder="little"))
        arr = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(),
            n,
            [validity, pa.py_buffer(offsets), pa.py_buffer(bits)],
            null_count=int(n - has.sum()),
        )
        return pl.Series("bloom", arr, dtype=pl.Binary)

    def _name_grams(self, names: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct q-grams of the name table (``uint64[v, 2]``), and per name its grams' ids
        (CSR: ``ids[off[t]:off[t + 1]]``); the last table's are kept, as chunks share it."""
        if self._last_names is not None and self._last_names[0] is names:
            return self._last_names[1]
        data, offsets = utf8_buffers(names)
        gram_off, w0, w1 = kernels.name_grams(data, offsets, self.params.qgram, _PAD)
        vocab, ids = _unique_pairs(w0, w1)
        grams = (vocab, gram_off.astype(np.int64), ids)
        self._last_names = (names, grams)
        return grams

    def _encode_bits(
        self,
        names: NameColumns,
        dates: np.ndarray,
        lo: int,
        hi: int,
        record_salts: np.ndarray | None = None,
    ) -> np.ndarray:
        """Diffused filters of records ``lo:hi`` (``uint64[n, bits // 64]``); halved if big."""
        n = hi - lo
        n_names = len(names.names)
        k_given, k_surname, k_date = (int(k) for k in self._k)
        # vocabulary: name q-grams once per field (given, surname), then the date tokens: every
        # birth year of the chunk, months 1-12, days 1-31 (ids by arithmetic, nothing sorted)
        name_vocab, gram_off, name_ids = self._name_grams(names.names)
        v = len(name_vocab)
        chunk_dates = dates[lo:hi]
        known = chunk_dates != 0
        years = (chunk_dates >> np.uint64(16)).astype(np.int64)
        # the birth years present, and each record's index among them (-1: no date)
        year_idx = np.full(n, -1, np.int64)
        year_list = np.zeros(0, np.int64)
        if known.any():
            y_min = int(years[known].min())
            present = np.bincount(years[known] - y_min) > 0
            year_list = np.flatnonzero(present) + y_min
            year_idx[known] = (np.cumsum(present) - 1)[years[known] - y_min]
        y_count = len(year_list)
        tag = np.uint64(1 << 32)
        date_vocab = np.concatenate(
            [
                tag | year_list.astype(np.uint64),
                (tag * np.uint64(2)) | np.arange(1, 13, dtype=np.uint64),
                (tag * np.uint64(3)) | np.arange(1, 32, dtype=np.uint64),
            ]
        )
        months = ((chunk_dates >> np.uint64(8)) & np.uint64(0xFF)).astype(np.int64)
        days = (chunk_dates & np.uint64(0xFF)).astype(np.int64)
        date_ids = np.stack([year_idx, y_count + months - 1, y_count + 12 + days - 1], axis=1)[
            known
        ].reshape(-1)
        vocab_w0 = np.concatenate([name_vocab[:, 0], name_vocab[:, 0], date_vocab])
        vocab_w1 = np.concatenate([name_vocab[:, 1], name_vocab[:, 1], np.zeros_like(date_vocab)])
        gram_field = np.repeat(np.arange(3, dtype=np.int64), [v, v, len(date_vocab)])
        # items: given name t -> t, surname part t -> n_names + t, the date of the u-th record
        # with one -> 2 * n_names + u
        item_off = np.concatenate(
            [
                gram_off[:-1],
                gram_off[-1] + gram_off[:-1],
                2 * gram_off[-1] + np.arange(0, 3 * int(known.sum()) + 1, 3),
            ]
        ).astype(np.int64)
        item_gram = np.concatenate([name_ids, name_ids + v, date_ids + 2 * v]).astype(np.int64)
        date_item = np.cumsum(known) - 1
        # per-record item lists: given names, then surname parts, then the date
        g_off = names.given_off[lo : hi + 1] - names.given_off[lo]
        p_off = names.part_off[lo : hi + 1] - names.part_off[lo]
        gc = np.diff(g_off) if k_given else np.zeros(n, np.int64)
        pc = np.diff(p_off) if k_surname else np.zeros(n, np.int64)
        dc = (chunk_dates != 0).astype(np.int64) if k_date else np.zeros(n, np.int64)
        rec_off = np.zeros(n + 1, np.int64)
        np.cumsum(gc + pc + dc, out=rec_off[1:])
        rec_item = np.empty(int(rec_off[-1]), np.int64)
        recs = np.arange(n, dtype=np.int64)
        if k_given:
            g_rec = np.repeat(recs, gc)
            dest = rec_off[g_rec] + np.arange(len(g_rec)) - g_off[g_rec]
            rec_item[dest] = names.given_idx[names.given_off[lo] : names.given_off[hi]]
        if k_surname:
            p_rec = np.repeat(recs, pc)
            dest = rec_off[p_rec] + gc[p_rec] + np.arange(len(p_rec)) - p_off[p_rec]
            rec_item[dest] = n_names + names.part_idx[names.part_off[lo] : names.part_off[hi]]
        if k_date:
            d_rec = recs[dc > 0]
            rec_item[rec_off[d_rec] + gc[d_rec] + pc[d_rec]] = 2 * n_names + date_item[d_rec]
        # salts: birth year (0 for none), the caller's per-record salts, or none at all
        if "salt" not in self.params.hardening or self.params.salt == "none":
            salts, rec_salt = np.zeros(1, np.uint64), np.zeros(n, np.int64)
        elif self.params.salt == "other_name" and record_salts is not None:
            # per call, never on the encoder: chunks are encoded side by side on threads
            salts, inverse = np.unique(record_salts[lo:hi], return_inverse=True)
            rec_salt = inverse.reshape(-1).astype(np.int64)
        else:
            salts = np.concatenate([[0], year_list]).astype(np.uint64)
            rec_salt = year_idx + 1
        if len(salts) * len(vocab_w0) * self.params.bits // 8 > _MAX_MASK_BYTES and n > 1:
            mid = (lo + hi) // 2
            return np.vstack(
                [
                    self._encode_bits(names, dates, lo, mid, record_salts),
                    self._encode_bits(names, dates, mid, hi, record_salts),
                ]
            )
        taps = self._offsets if "diffusion" in self.params.hardening else np.zeros(0, np.int64)
        words = self.params.bits // 64
        masks = kernels.gram_masks(
            self._field_keys,
            self._k,
            gram_field,
            vocab_w0,
            vocab_w1,
            salts.astype(np.uint64),
            words,
        )
        out = np.zeros((n, words), np.uint64)
        many = use_parallel(n)
        kernel = kernels.bloom_bits_parallel if many else kernels.bloom_bits
        kernel(masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out)
        return out
