"""Numba kernels of the steward-side hashing, one import for the callers in ``steward``.

The kernels live by family, each beside its plain-Python twin (``*_reference``):
``siphash`` (SipHash-2-4, the keyed PRF), ``grams`` (name q-grams), ``tokens`` (token messages
and blocking values), ``bloom`` (Bloom bits, masks, diffusion; 1024-bit rows through the LLVM
vector type in ``simd``) and ``arrays`` (compacting and capping rows). Pure functions over NumPy
arrays and scalars: no objects, exceptions, logging or I/O; ``tests/test_hash_kernels.py``
compares each with its twin under hypothesis.
"""

from __future__ import annotations

from matcher.kernels.arrays import compact_rows, dedupe_cap
from matcher.kernels.bloom import (
    BLOOM_TASK_ROWS,
    bloom_bits,
    bloom_bits_parallel,
    diffuse,
    gram_masks,
    gram_positions,
)
from matcher.kernels.grams import name_grams
from matcher.kernels.siphash import hash_strings, sip4, sip4_many, sip_bytes
from matcher.kernels.tokens import (
    BLOCK_DATE,
    BLOCK_GIVEN_SURNAME,
    BLOCK_PAIR_NAMES,
    BLOCK_YEAR_GIVEN,
    BLOCK_YEAR_SURNAME,
    ID_TAG,
    MAX_BLOCK_TOKENS,
    NAME_FULL,
    block_tokens,
    block_tokens_parallel,
    name_token_messages,
    packed_dates,
)

__all__ = [
    "BLOCK_DATE",
    "BLOCK_GIVEN_SURNAME",
    "BLOCK_PAIR_NAMES",
    "BLOCK_YEAR_GIVEN",
    "BLOCK_YEAR_SURNAME",
    "BLOOM_TASK_ROWS",
    "ID_TAG",
    "MAX_BLOCK_TOKENS",
    "NAME_FULL",
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
]
