"""Plain-Python twins of ``hashing``'s kernels, one import: same names, signatures, contracts.

Written for reading, not speed; each family's twins live beside its kernels
(``siphash_reference``, ``grams_reference``, ``tokens_reference``, ``bloom_reference``,
``arrays_reference``). ``tests/test_hash_kernels.py`` checks the kernels against them, and
``siphash24`` (general byte messages) against the published SipHash-2-4 test vectors.
"""

from __future__ import annotations

from matcher.kernels.arrays_reference import compact_rows, dedupe_cap
from matcher.kernels.bloom_reference import (
    bloom_bits,
    bloom_bits_parallel,
    diffuse,
    gram_masks,
    gram_positions,
)
from matcher.kernels.grams_reference import name_grams
from matcher.kernels.siphash_reference import hash_strings, sip4, sip4_many, sip_bytes, siphash24
from matcher.kernels.tokens_reference import (
    block_tokens,
    block_tokens_parallel,
    name_token_messages,
    packed_dates,
)

__all__ = [
    "block_tokens",
    "block_tokens_parallel",
    "bloom_bits",
    "bloom_bits_parallel",
    "compact_rows",
    "dedupe_cap",
    "diffuse",
    "gram_masks",
    "gram_positions",
    "hash_strings",
    "name_grams",
    "name_token_messages",
    "packed_dates",
    "sip4",
    "sip4_many",
    "sip_bytes",
    "siphash24",
]
