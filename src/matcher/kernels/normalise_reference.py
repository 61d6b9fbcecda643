"""Plain-Python twins of ``_normalise_kernels``: same names, signatures and contracts, no Numba.

Written for reading, not speed: in ``parse_ids`` each value gets the kernel's ASCII cleaning and
then the scalar rules of `matcher.steward.identifiers.parse_cleaned_identity_number`.
``tests/test_normalise_kernels.py`` checks the kernels against them.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np

from matcher.kernels.normalise import PERSONNUMMER, PNR_BYTES, REASONS, SAMORDNINGSNUMMER
from matcher.steward.identifiers import (
    KIND_SAMORDNINGSNUMMER,
    ParsedId,
    parse_cleaned_identity_number,
)

_EPOCH = date(1970, 1, 1)


def parse_ids(  # type: ignore[no-untyped-def]
    data, offsets, ref_year, ref_month, ref_day, pnr, pnr_offsets, birth_days, kinds, reasons
):
    """See `matcher.kernels.normalise.parse_ids`."""
    ref = date(ref_year, ref_month, ref_day)
    n = offsets.shape[0] - 1
    canonical = b""
    pnr_offsets[0] = 0
    for i in range(n):
        text = bytes(data[offsets[i] : offsets[i + 1]]).decode("utf-8")
        cleaned = re.sub("^['`]+", "", re.sub("[ \t\n\r\x0b\x0c]", "", text))
        result = parse_cleaned_identity_number(cleaned, ref)
        reasons[i] = 0
        kinds[i] = 0
        birth_days[i] = 0
        if isinstance(result, ParsedId):
            snr = result.kind == KIND_SAMORDNINGSNUMMER
            kinds[i] = SAMORDNINGSNUMMER if snr else PERSONNUMMER
            birth_days[i] = (result.birth_date - _EPOCH).days
            canonical += result.value.encode("ascii")
            result = result.warning
        if result is not None:
            reasons[i] = REASONS.index(result) + 1
        pnr_offsets[i + 1] = len(canonical)
    pnr[: len(canonical)] = np.frombuffer(canonical, np.uint8)
    return len(canonical) // PNR_BYTES


def factorize(hashes, valid, codes, firsts, expected):  # type: ignore[no-untyped-def]
    """See `matcher.kernels.normalise.factorize`."""
    numbers: dict[int | None, int] = {}
    for i in range(hashes.shape[0]):
        value = int(hashes[i]) if valid[i] else None
        if value not in numbers:
            firsts[len(numbers)] = i
            numbers[value] = len(numbers)
        codes[i] = numbers[value]
    return len(numbers)
