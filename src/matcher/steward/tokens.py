"""Exact keyed match keys: identity-number token, name + birth-date tokens, blocking tokens.

Construction (two keyed layers, both PRFs; every key is a sub-key of the round key, derived with
HKDF-SHA256 in ``matcher.steward.keys``). ``HMAC(K, m)`` below is HMAC-SHA256 (RFC 2104) truncated
to 64 bits: the first 8 digest bytes, little-endian; messages are 64-bit words, little-endian.
1. *Field words.* Each distinct folded name ``s`` (``names.fold``, so Åsa/Asa agree) becomes
   ``word(s) = HMAC(K_words/name, utf8(s))``, computed once per distinct value of a run. The
   whole surname ``S`` is its part's word when it has one part, else ``HMAC(K_words/surname,
   count, p1, p2, p3)`` of its (at most ``MAX_SURNAME_PARTS``, zero-padded) part words.
2. *Match keys.* The identity token is ``HMAC(K_token/id, ID_TAG, type, number)``: the number
   as its 12 canonical digits read as an integer, the type 1 personnummer / 2 samordningsnummer
   (the type is in the message, as the issue asks). A name token is ``HMAC(K_token/name,
   NAME_FULL, D, g, S or p)`` with ``D = year<<16 | month<<8 | day``.
3. *Blocks.* Blocking tokens only propose candidate pairs for the fuzzy pass and never link by
   themselves, so they use the faster SipHash-2-4 PRF (Aumasson & Bernstein 2012; 128-bit keys
   from HKDF) over name-prefix words ``SipHash-2-4(K_words/prefix, utf8(first PREFIX_LENGTH
   letters))``, as do the Bloom encodings' bit positions (``matcher.steward.encodings``).

The HMACs run in Numba (``kernels.hmac``: precomputed ipad/opad states, 16 messages at a time in
SIMD lanes; a Python ``hmac`` call per token is too slow, ``docs/decisions/0002``). Without the
round secret nobody can evaluate a token or test a guessed personnummer (an unkeyed hash would be
reversible in seconds: never used). Keys differ per round (HKDF info ``matcher/v1/round/<id>``) and
per purpose (``token/id``, ``token/name``, ``token/block``, ``words/*``), so rounds share no tokens
and kinds never collide.

Collision odds: tokens are 64-bit PRF outputs, so among n distinct values the chance of any
collision is about n²/2⁶⁵: 1.4·10⁻⁷ for 2.3 M, 2.7·10⁻⁶ for 10 M, 2.7·10⁻⁴ for 100 M values.

Name tokens are exact links: the linkage core unions every two records that share one, before
and above any Dice comparison, and cannot tell one token from another. So only the strong
combination is a name token (``g`` = each given name, at most 3 and in order, ``S`` = whole
surname, ``p`` = each surname part, ``D`` = birth date):

==================================  ============================================================
words                               shared when ...
==================================  ============================================================
D, g, S; and D, g, p for each part  identity number missing or wrong; calling name is g; one
of a surname with 2+ parts          list has only one part of a double surname
==================================  ============================================================

A record has at most 12 name tokens (3 given names × (1 + 3 parts)), typically 2. Everything
weaker goes to the fuzzy pass: a typo in a given name, a wrong day or a wrong month gives a
Dice of 0.91-0.96 for "anna maria andersson", above the default threshold 0.9.

Weaker combinations (an initial for a name, a date with one component dropped) were name tokens
in version 1 and made more false links than true ones, and as blocking tokens added nothing but
time; name tokens stay links on default dates too. The measurements are in
``docs/decisions/0001-strong-name-tokens-only.md``.

Blocking tokens (candidate pairs for the fuzzy pass; never sex): birth date; birth year +
3-letter prefix of each surname part; birth year + prefix of each given name; given-name prefix
× surname-part prefix (first 2 of each, no date). A typo in any single field (date, given name,
surname) leaves at least one shared block with the true match. There is no birth year + month
block: nationally it would hold ~1/216 of all children, too big to compare within. Every record
has at most MAX_BLOCK_TOKENS blocks (typically 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from matcher._arrow import utf8_buffers
from matcher._numba_config import use_parallel
from matcher.kernels import hashing as kernels
from matcher.kernels import hmac as hmac_kernels
from matcher.steward.keys import RoundKeys
from matcher.steward.names import fold_names

__all__ = [
    "MAX_GIVEN_NAMES",
    "MAX_SURNAME_PARTS",
    "PREFIX_LENGTH",
    "TOKEN_KINDS",
    "HmacKey",
    "NameColumns",
    "NameWords",
    "compute_tokens",
    "date_words",
    "identity_numbers",
    "list_column",
    "list_series",
    "name_columns",
]

#: Recorded in the hashed file header; all uploads of a round must agree.
TOKEN_KINDS: list[str] = [
    "id_token/hmac-sha256-v1",
    "name_tokens/hmac-sha256-v1",
    "block_tokens/sip24-v1",
]
MAX_GIVEN_NAMES = 3
MAX_SURNAME_PARTS = 3
PREFIX_LENGTH = 3
_KIND_CODES = {"personnummer": 1, "samordningsnummer": 2}


@dataclass(frozen=True)
class NameColumns:
    """Folded names of records: a table of distinct strings and per-record indices into it.

    ``given_idx[given_off[i]:given_off[i + 1]]`` are record ``i``'s given names (deduplicated,
    in order, at most MAX_GIVEN_NAMES), likewise ``part_*`` for its surname parts (at most
    MAX_SURNAME_PARTS). Indices point into ``names``, which `rows` slices share.
    """

    names: pl.Series
    given_off: np.ndarray
    given_idx: np.ndarray
    part_off: np.ndarray
    part_idx: np.ndarray

    def rows(self, lo: int, hi: int) -> NameColumns:
        """Records ``lo:hi`` (offsets rebased; the name table is shared, not copied)."""
        g, p = self.given_off[lo : hi + 1], self.part_off[lo : hi + 1]
        return NameColumns(
            names=self.names,
            given_off=g - g[0],
            given_idx=self.given_idx[g[0] : g[-1]],
            part_off=p - p[0],
            part_idx=self.part_idx[p[0] : p[-1]],
        )


def _list_values(series: pl.Series) -> tuple[np.ndarray, pa.Array]:
    """CSR offsets per record and the string elements of a list column (null lists empty)."""
    arr = series.rechunk().to_arrow()
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy()
    offsets = np.zeros(len(series) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = arr.flatten() if len(arr) else pa.array([], pa.large_string())
    return offsets, values.cast(pa.large_string())


def name_columns(records: pl.DataFrame) -> NameColumns:
    """Fold and index the given names and surname parts of ``records`` (normalised frame).

    Each distinct raw name is folded once (Arrow dictionary encoding, then ``names.fold``);
    names that fold to nothing are dropped.
    """
    given_off, given_values = _list_values(records["given_names"])
    part_off, part_values = _list_values(records["surnames"])
    encoded = pc.dictionary_encode(pa.concat_arrays([given_values, part_values]))
    raw = pl.Series(encoded.dictionary, dtype=pl.Utf8)
    folded = fold_names(raw).fill_null("").to_arrow()
    table = pc.dictionary_encode(folded)
    names = pl.Series(table.dictionary, dtype=pl.Utf8)
    # raw name -> index of its folded form among the non-empty ones, -1 for ""
    keep = names.str.len_bytes().to_numpy() > 0
    new_index = np.where(keep, np.cumsum(keep) - 1, -1).astype(np.int64)
    raw_to_name = np.append(new_index[table.indices.to_numpy()], np.int64(-1))
    codes = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64)
    idx = raw_to_name[codes]  # code -1 (a null element) picks the appended -1
    split = len(given_values)
    given_off, given_idx = kernels.dedupe_cap(given_off, idx[:split], MAX_GIVEN_NAMES)
    part_off, part_idx = kernels.dedupe_cap(part_off, idx[split:], MAX_SURNAME_PARTS)
    return NameColumns(
        names=names.filter(pl.Series(keep)),
        given_off=given_off,
        given_idx=given_idx,
        part_off=part_off,
        part_idx=part_idx,
    )


class HmacKey:
    """One HMAC-SHA256 key, ready for the kernels (its ipad/opad chaining states)."""

    def __init__(self, key: bytes) -> None:
        self.inner, self.outer = hmac_kernels.hmac_states(key)

    def words(self, rows: np.ndarray) -> np.ndarray:
        """Truncated HMAC of each row of ``uint64[n, m]`` (all cores for large inputs)."""
        rows = np.ascontiguousarray(rows, dtype=np.uint64)
        many = use_parallel(rows.shape[0])
        kernel = hmac_kernels.hmac_words_parallel if many else hmac_kernels.hmac_words
        return kernel(self.inner, self.outer, rows)

    def strings(self, strings: pl.Series) -> np.ndarray:
        """Truncated HMAC of the UTF-8 bytes of each string."""
        data, offsets = utf8_buffers(strings)
        return hmac_kernels.hmac_strings(self.inner, self.outer, data, offsets)


class NameWords:
    """Keyed 64-bit words of folded names: HMAC-SHA256 for the match keys, SipHash-2-4 for the
    prefixes that only form blocks; one key per use."""

    def __init__(self, keys: RoundKeys) -> None:
        self._name = HmacKey(keys.subkey("words/name"))
        self._surname = HmacKey(keys.subkey("words/surname"))
        self._prefix = keys.sip_key("words/prefix")
        self._last: tuple[pl.Series, tuple[np.ndarray, np.ndarray]] | None = None

    def words(self, names: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        """Word of each whole name and of its first PREFIX_LENGTH letters (the last table's words
        are kept: every chunk of a run shares one name table)."""
        if self._last is not None and self._last[0] is names:
            return self._last[1]
        word = self._name.strings(names)
        data, offsets = utf8_buffers(names.str.slice(0, PREFIX_LENGTH))
        prefix = kernels.hash_strings(self._prefix[0], self._prefix[1], data, offsets)
        self._last = (names, (word, prefix))
        return word, prefix

    def surname_words(self, names: NameColumns, word: np.ndarray) -> np.ndarray:
        """Word of each record's whole surname: the part's own word for one part (so it meets the
        part tokens of a double surname), a keyed word of the count and part words for more, 0
        for none."""
        counts = np.diff(names.part_off)
        rows = np.zeros((len(counts), 1 + MAX_SURNAME_PARTS), np.uint64)
        rows[:, 0] = counts
        for j in range(MAX_SURNAME_PARTS):
            has = counts > j
            rows[has, j + 1] = word[names.part_idx[names.part_off[:-1][has] + j]]
        out = np.where(counts == 1, rows[:, 1], np.uint64(0))
        several = counts > 1
        out[several] = self._surname.words(rows[several])
        return out


def date_words(dates: pl.Series) -> np.ndarray:
    """Birth dates packed as ``year<<16 | month<<8 | day`` (``uint64``), 0 where unknown."""
    days = dates.cast(pl.Date).to_physical()
    valid = days.is_not_null().to_numpy()
    return kernels.packed_dates(days.fill_null(0).to_numpy().astype(np.int32), valid)


def _strong_name_tokens(
    key: HmacKey,
    dates: np.ndarray,
    names: NameColumns,
    word: np.ndarray,
    full_word: np.ndarray,
) -> pl.Series:
    """Name tokens (birth date, given name, surname or surname part) as a list column.

    Per record: ``HMAC(NAME_FULL, D, g, S)`` for each given name, then ``HMAC(NAME_FULL, D, g,
    p)`` for each given name and part when the surname has 2+ parts; none where the date or the
    surname is missing (`_hash_kernels.name_token_messages`). ~2 HMACs a record.
    """
    off, messages = kernels.name_token_messages(
        dates,
        names.given_off,
        word[names.given_idx],
        names.part_off,
        word[names.part_idx],
        full_word,
    )
    return list_series(np.diff(off), key.words(messages), "name_tokens")


def list_series(counts: np.ndarray, flat: np.ndarray, name: str) -> pl.Series:
    """A List(UInt64) series: record ``i`` holds the next ``counts[i]`` values of ``flat``."""
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    arr = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(flat, pa.uint64()))
    return pl.Series(name, arr, dtype=pl.List(pl.UInt64))


def list_column(matrix: np.ndarray, counts: np.ndarray, name: str) -> pl.Series:
    """A List(UInt64) column from the first ``counts[i]`` entries of each row of ``matrix``."""
    return list_series(counts, kernels.compact_rows(matrix, counts.astype(np.int64)), name)


def identity_numbers(records: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each record's identity number as an integer and its kind (1 pnr, 2 snr; 0, 0 if none)."""
    numbers = records["pnr"].cast(pl.UInt64, strict=False)
    kinds = records["pnr_kind"].replace_strict(_KIND_CODES, default=0, return_dtype=pl.UInt8)
    kind_expr = pl.when(numbers.is_null()).then(0).otherwise(kinds.fill_null(0))
    kind_arr = pl.select(kind_expr.cast(pl.UInt8)).to_series().to_numpy()
    return numbers.fill_null(0).to_numpy().astype(np.uint64), kind_arr


def compute_tokens(
    records: pl.DataFrame,
    keys: RoundKeys,
    *,
    names: NameColumns | None = None,
    words: NameWords | None = None,
    dates: np.ndarray | None = None,
) -> pl.DataFrame:
    """The ``id_token``, ``name_tokens`` and ``block_tokens`` columns for normalised records.

    ``name_tokens`` are exact links (birth date + a given name + the surname or a surname part);
    ``block_tokens`` only propose candidate pairs for the fuzzy pass (module docstring).
    ``names``, ``words`` and ``dates`` (`date_words`) may come precomputed for a whole run.
    """
    names = names if names is not None else name_columns(records)
    words = words if words is not None else NameWords(keys)
    word, pre = words.words(names.names)
    n = records.height
    dates = dates if dates is not None else date_words(records["birth_date"])

    numbers, kinds = identity_numbers(records)
    valid = kinds != 0
    messages = np.stack(
        [np.full(n, kernels.ID_TAG, np.uint64), kinds.astype(np.uint64), numbers], axis=1
    )[valid]
    ids = np.zeros(n, np.uint64)
    ids[valid] = HmacKey(keys.subkey("token/id")).words(messages)
    id_col = pl.Series("id_token", ids).set(pl.Series(~valid), None)

    full_word = words.surname_words(names, word)
    strong = _strong_name_tokens(HmacKey(keys.subkey("token/name")), dates, names, word, full_word)
    block_k0, block_k1 = keys.sip_key("token/block")
    block_out = np.zeros((n, kernels.MAX_BLOCK_TOKENS), np.uint64)
    parallel = use_parallel(n)
    block_kernel = kernels.block_tokens_parallel if parallel else kernels.block_tokens
    block_counts = block_kernel(
        block_k0,
        block_k1,
        dates,
        names.given_off,
        pre[names.given_idx],
        names.part_off,
        pre[names.part_idx],
        block_out,
    )
    return pl.DataFrame([id_col, strong, list_column(block_out, block_counts, "block_tokens")])
