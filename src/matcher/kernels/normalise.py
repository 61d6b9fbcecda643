"""Numba kernels of the export normalisation: identity numbers and distinct strings, in one pass.

``parse_ids``: ``parse_identity_numbers`` (in ``identifiers``) does the Unicode cleaning in polars
when a column has non-ASCII text and hands the strings here; the kernel applies the rest of the
rules of `matcher.steward.identifiers.parse_identity_number` byte by byte (ASCII whitespace removed,
leading ASCII apostrophes dropped, shape, century, date, Luhn, reasons).

``factorize``: the distinct values of a column (by a 64-bit hash of each value) and, for each row,
the number of its value (``normalise`` parses names and dates once per distinct value and gathers
the results back).

Pure functions over NumPy arrays: no objects, exceptions, logging or I/O. Their plain-Python twins,
with the same names and contracts, are in ``_normalise_reference``;
``tests/test_normalise_kernels.py`` compares them with hypothesis.
"""

from __future__ import annotations

import numba
import numpy as np

from matcher._numba_config import JIT
from matcher.steward.rejects import Reason

#: ``reasons`` codes: 0 is no reason, code ``i`` is ``REASONS[i - 1]``.
REASONS: tuple[Reason, ...] = (
    Reason.CELL_FORMULA,
    Reason.PNR_FLOAT_FORMAT,
    Reason.PNR_NOT_NATIONAL,
    Reason.PNR_MALFORMED,
    Reason.PNR_INVALID_DATE,
    Reason.PNR_CHECKSUM,
    Reason.PNR_FUTURE_DATE,
    Reason.PNR_PLUS_ON_CHILD,
    Reason.PNR_LEADING_ZERO_DROPPED,
)
FORMULA, FLOAT, NOT_NATIONAL, MALFORMED, INVALID_DATE, CHECKSUM, FUTURE, PLUS, ZERO = range(1, 10)
#: ``kinds`` codes: 0 is not usable.
PERSONNUMMER, SAMORDNINGSNUMMER = 1, 2
#: Bytes of one canonical number.
PNR_BYTES = 12

_D0 = 48  # ord("0")
_PLUS = 43
_MINUS = 45


@numba.njit(**JIT)
def _is_digit(b: int) -> bool:
    return 48 <= b <= 57


@numba.njit(**JIT)
def days_from_civil(y: int, m: int, d: int) -> int:
    """Days from 1970-01-01 to the proleptic Gregorian date (y, m, d) (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = m + 9 if m <= 2 else m - 3
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@numba.njit(**JIT)
def _valid_date(y: int, m: int, d: int) -> bool:
    """Whether (y, m, d) is a calendar date Python's `datetime.date` accepts."""
    if y < 1 or y > 9999 or m < 1 or m > 12 or d < 1:
        return False
    if m == 2:
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        return d <= (29 if leap else 28)
    if m in (4, 6, 9, 11):
        return d <= 30
    return d <= 31


@numba.njit(**JIT)
def _is_float(s: np.ndarray, n: int) -> bool:
    """``^[0-9]+(?:[.,][0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)$`` on ``s[:n]``."""
    i = 0
    while i < n and _is_digit(s[i]):
        i += 1
    if i == 0 or i == n:
        return False
    if s[i] == 46 or s[i] == 44:  # . or ,
        i += 1
        j = i
        while i < n and _is_digit(s[i]):
            i += 1
        if i == j:
            return False
        if i == n:
            return True
    if s[i] != 101 and s[i] != 69:  # e or E
        return False
    i += 1
    if i < n and (s[i] == _PLUS or s[i] == _MINUS):
        i += 1
    j = i
    while i < n and _is_digit(s[i]):
        i += 1
    return i > j and i == n


@numba.njit(**JIT)
def _unshaped_reason(s: np.ndarray, n: int) -> int:
    """The reason for a cleaned value that is not shaped like an identity number."""
    if _is_float(s, n):
        return FLOAT
    digit = False
    other = False
    for i in range(n):
        b = s[i]
        if _is_digit(b):
            digit = True
        # [^0-9+\-.,:/]: every byte of a non-ASCII character counts as "other"
        elif not (b == 43 or b == 45 or b == 46 or b == 44 or b == 58 or b == 47):
            other = True
    return NOT_NATIONAL if digit and other else MALFORMED


@numba.njit(**JIT)
def _num(s: np.ndarray, start: int, count: int) -> int:
    """The decimal value of ``count`` digits from ``s[start]``."""
    v = 0
    for i in range(start, start + count):
        v = v * 10 + (int(s[i]) - _D0)  # int(): plain numpy would wrap in uint8 (no-JIT run)
    return v


@numba.njit(**JIT)
def parse_ids(  # type: ignore[no-untyped-def]
    data, offsets, ref_year, ref_month, ref_day, pnr, pnr_offsets, birth_days, kinds, reasons
):
    """Parse each string ``data[offsets[i]:offsets[i + 1]]`` (cleaned or ASCII; empty = missing).

    For a usable number ``i``: its 12 canonical ASCII digits go to ``pnr`` after those of the
    usable numbers before it (``pnr_offsets[i]:pnr_offsets[i + 1]``, an empty range for the
    others), ``birth_days[i]`` is its date (days since 1970-01-01) and ``kinds[i]`` its `KINDS`
    code (0 for not usable). ``reasons[i]`` is a `REASONS` code, 0 for none. Returns the number
    of usable numbers.
    """
    n = offsets.shape[0] - 1
    used = 0
    pnr_offsets[0] = 0
    longest = 0
    for i in range(n):
        longest = max(longest, offsets[i + 1] - offsets[i])
    s = np.empty(longest + 1, np.uint8)
    ref_key = ref_year * 10_000 + ref_month * 100 + ref_day
    for i in range(n):
        reasons[i] = 0
        kinds[i] = 0
        birth_days[i] = 0
        pnr_offsets[i + 1] = used * PNR_BYTES
        # clean: ASCII whitespace removed, then leading ' and ` dropped
        m = 0
        for j in range(offsets[i], offsets[i + 1]):
            b = data[j]
            if b == 32 or 9 <= b <= 13:
                continue
            if m == 0 and (b == 39 or b == 96):
                continue
            s[m] = b
            m += 1
        if m == 0:
            continue
        if s[0] == 61 or s[0] == _PLUS or s[0] == 64:  # = + @
            reasons[i] = FORMULA
            continue
        nine = m == 9
        for j in range(m):
            if not _is_digit(s[j]):
                nine = False
                break
        if nine:  # read as "0" + s
            for j in range(9, 0, -1):
                s[j] = s[j - 1]
            s[0] = _D0
            m = 10
        # ^([0-9]{2})?([0-9]{6})([-+]?)([0-9]{4})$
        if m == 10 or m == 12:
            sep_at = -1
        elif m == 11:
            sep_at = 6
        elif m == 13:
            sep_at = 8
        else:
            sep_at = -2
        shaped = sep_at != -2
        if shaped:
            for j in range(m):
                if j == sep_at:
                    shaped = s[j] == _PLUS or s[j] == _MINUS
                elif not _is_digit(s[j]):
                    shaped = False
                if not shaped:
                    break
        if not shaped:
            reasons[i] = _unshaped_reason(s, m)
            continue
        plus = sep_at >= 0 and s[sep_at] == _PLUS
        has_century = m >= 12
        body = 2 if has_century else 0  # where the ten digits YYMMDD NNNC start
        century = _num(s, 0, 2) if has_century else -1
        tail = body + 6 + (1 if sep_at >= 0 else 0)
        if has_century and not 18 <= century <= 20:
            reasons[i] = ZERO if nine else NOT_NATIONAL
            continue
        if s[body + 2] - _D0 >= 2:
            reasons[i] = ZERO if nine else NOT_NATIONAL
            continue
        yy = _num(s, body, 2)
        month = _num(s, body + 2, 2)
        raw_day = _num(s, body + 4, 2)
        is_snr = 61 <= raw_day <= 91
        day = raw_day - 60 if is_snr else raw_day
        if has_century:
            year = century * 100 + yy
        else:
            year = ref_year - (ref_year - yy) % 100
            if year == ref_year and month * 100 + day > ref_month * 100 + ref_day:
                year -= 100
            if plus:
                year -= 100
        if not (1 <= day <= 31 and _valid_date(year, month, day)):
            reasons[i] = ZERO if nine else INVALID_DATE
            continue
        # Luhn over YYMMDDNNN (digits 0-5 from body, 6-8 from tail), check digit tail + 3
        total = 0
        for k in range(9):
            d = s[body + k] - _D0 if k < 6 else s[tail + k - 6] - _D0
            if k % 2 == 0:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        if (10 - total % 10) % 10 != s[tail + 3] - _D0:
            reasons[i] = ZERO if nine else CHECKSUM
            continue
        born_key = year * 10_000 + month * 100 + day
        if born_key > ref_key:
            reasons[i] = ZERO if nine else FUTURE
            continue
        if plus and not has_century:
            reasons[i] = PLUS
            continue
        if nine:
            reasons[i] = ZERO
        elif plus and born_key + 1_000_000 > ref_key:
            reasons[i] = PLUS
        kinds[i] = SAMORDNINGSNUMMER if is_snr else PERSONNUMMER
        birth_days[i] = days_from_civil(year, month, day)
        at = used * PNR_BYTES
        pnr[at] = _D0 + year // 1000
        pnr[at + 1] = _D0 + year // 100 % 10
        pnr[at + 2] = _D0 + year // 10 % 10
        pnr[at + 3] = _D0 + year % 10
        for k in range(4):
            pnr[at + 4 + k] = s[body + 2 + k]
            pnr[at + 8 + k] = s[tail + k]
        used += 1
        pnr_offsets[i + 1] = used * PNR_BYTES
    return used


_S33 = np.uint64(33)
_MIX = np.uint64(0xFF51AFD7ED558CCD)


@numba.njit(**JIT)
def factorize(hashes, valid, codes, firsts, expected):  # type: ignore[no-untyped-def]
    """Number the distinct values of ``hashes`` (a 64-bit hash of each row's value).

    Rows with ``valid[i]`` false are nulls, one value of their own. ``codes[i]`` is the number of
    row ``i``'s value, counted in order of first occurrence; ``firsts[k]`` is the row where value
    ``k`` first occurs. ``expected`` (an estimate of the count, any value works) sizes the table.
    Returns the number of distinct values. Equal hashes are taken for equal values: the caller
    checks that every row's value equals that of the first row with its number.
    """
    n = hashes.shape[0]
    cap = 16
    while cap < 2 * expected:
        cap *= 2
    # slot: [hash, number + 1]; number 0 marks an empty slot
    table = np.zeros((cap, 2), np.uint64)
    k = 0
    null_code = -1
    for i in range(n):
        if not valid[i]:
            if null_code < 0:
                null_code = k
                firsts[k] = i
                k += 1
            codes[i] = null_code
            continue
        h = hashes[i]
        mask = np.uint64(cap - 1)
        slot = (h ^ (h >> _S33)) * _MIX & mask
        while table[slot, 1] != 0 and table[slot, 0] != h:
            slot = (slot + np.uint64(1)) & mask
        if table[slot, 1] != 0:
            codes[i] = np.int64(table[slot, 1]) - 1
            continue
        table[slot, 0] = h
        table[slot, 1] = np.uint64(k + 1)
        firsts[k] = i
        codes[i] = k
        k += 1
        if 2 * k > cap:  # keep the table at most half full: double it and re-insert
            cap *= 2
            mask = np.uint64(cap - 1)
            old = table
            table = np.zeros((cap, 2), np.uint64)
            for s in range(old.shape[0]):
                if old[s, 1] != 0:
                    g = old[s, 0]
                    slot = (g ^ (g >> _S33)) * _MIX & mask
                    while table[slot, 1] != 0:
                        slot = (slot + np.uint64(1)) & mask
                    table[slot, 0] = g
                    table[slot, 1] = old[s, 1]
    return k
