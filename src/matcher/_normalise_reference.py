"""Plain-Python twin of ``_identity_kernels``: same name, signature and contract, no Numba.

Written for reading, not speed: each value gets the kernel's ASCII cleaning and then the scalar
rules of `matcher.identifiers.parse_cleaned_identity_number`. ``tests/test_identity_kernels.py``
checks the kernel against it.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np

from matcher._identity_kernels import PERSONNUMMER, PNR_BYTES, REASONS, SAMORDNINGSNUMMER
from matcher.identifiers import KIND_SAMORDNINGSNUMMER, ParsedId, parse_cleaned_identity_number

_EPOCH = date(1970, 1, 1)


def parse_ids(  # type: ignore[no-untyped-def]
    data, offsets, ref_year, ref_month, ref_day, pnr, pnr_offsets, birth_days, kinds, reasons
):
    """See `matcher._identity_kernels.parse_ids`."""
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
