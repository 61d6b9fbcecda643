"""Dictionary / brute-force attack on identity-number tokens.

Follows the standard argument against unkeyed hashing of national identifiers (e.g. Christen,
Ranbaduge & Schnell, *Linking Sensitive Data*, Springer 2020, §6.2; Culnane, Rubinstein & Teague
2017 on the hashed Australian health data): the space of valid Swedish personnummer for a range of
birth years is small (365 days x 1000 serials x one Luhn check digit per year, doubled with the
samordningsnummer days 61-91), so an attacker hashes every candidate and looks the file's tokens up.

Attacker's knowledge: the hash constructions (public: the source is open) and the birth-year range
of the children (public: SSPF lists children aged 6-17). Not the round secret: against matcher it
tries unkeyed SHA-256 and matcher's own identity-token HMAC under secrets it draws itself, which is
all a party without the secret can do (success must be chance: a 64-bit PRF collision).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from time import perf_counter

import numpy as np
import polars as pl

from matcher.attacks.columns import AttackColumn, token_lists
from matcher.attacks.population import Population
from matcher.attacks.result import AttackResult
from matcher.kernels import hashing as hash_kernels
from matcher.kernels import hmac as hmac_kernels
from matcher.steward.identifiers import luhn_check_digits
from matcher.steward.keys import RoundKeys

__all__ = ["Guess", "candidate_numbers", "dictionary_attack", "sha256_guess", "wrong_key_guess"]

Guess = Callable[[np.ndarray, np.ndarray], np.ndarray]


def candidate_numbers(years: range, *, coordination: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Every valid 12-digit identity number born in ``years``: the numbers (``int64``) and their
    kinds (1 personnummer, 2 samordningsnummer: day + 60)."""
    days = np.arange(
        np.datetime64(f"{years.start}-01-01"), np.datetime64(f"{years.stop}-01-01"), dtype="M8[D]"
    )
    ymd = days.astype(object)
    y = np.array([d.year for d in ymd], np.int64)
    m = np.array([d.month for d in ymd], np.int64)
    d = np.array([d.day for d in ymd], np.int64)
    out_numbers, out_kinds = [], []
    for kind, shift in ((1, 0), (2, 60)) if coordination else ((1, 0),):
        day = np.repeat(d + shift, 1000)
        year = np.repeat(y, 1000)
        month = np.repeat(m, 1000)
        serial = np.tile(np.arange(1000, dtype=np.int64), len(days))
        nine = np.stack(
            [
                year // 10 % 10,
                year % 10,
                month // 10,
                month % 10,
                day // 10,
                day % 10,
                serial // 100,
                serial // 10 % 10,
                serial % 10,
            ],
            axis=1,
        )
        check = luhn_check_digits(nine).astype(np.int64)
        numbers = ((year * 100 + month) * 100 + day) * 10_000 + serial * 10 + check
        out_numbers.append(numbers)
        out_kinds.append(np.full(len(numbers), kind, np.int64))
    return np.concatenate(out_numbers), np.concatenate(out_kinds)


def sha256_guess(numbers: np.ndarray, _kinds: np.ndarray) -> np.ndarray:
    """Unkeyed SHA-256 of each number's 12 digits, first 8 bytes little-endian (the baseline)."""
    text = numbers.astype("U12")
    return np.fromiter(
        (int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little") for t in text),
        np.uint64,
        len(text),
    )


def wrong_key_guess(round_id: str) -> Guess:
    """matcher's identity-token HMAC under a secret the attacker draws (it lacks the real one)."""
    keys = RoundKeys.derive(os.urandom(32), round_id)
    inner, outer = hmac_kernels.hmac_states(keys.subkey("token/id"))

    def guess(numbers: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        messages = np.stack(
            [
                np.full(len(numbers), hash_kernels.ID_TAG, np.uint64),
                kinds.astype(np.uint64),
                numbers.astype(np.uint64),
            ],
            axis=1,
        )
        return hmac_kernels.hmac_words_parallel(inner, outer, np.ascontiguousarray(messages))

    return guess


def dictionary_attack(
    frame: pl.DataFrame,
    column: AttackColumn,
    population: Population,
    *,
    target: str,
    years: range,
    guesses: dict[str, Guess],
) -> AttackResult:
    """Hash every candidate number with each guessed construction and look up the file's tokens;
    a record is re-identified when one of its tokens is a candidate's hash of its true number."""
    started = perf_counter()
    numbers, kinds = candidate_numbers(years)
    offsets, values = token_lists(frame[column.name])
    found: dict[int, str] = {}
    wanted = set(values.tolist())
    for guess in guesses.values():
        hashed = guess(numbers, kinds)
        hit = np.flatnonzero(np.isin(hashed, values))
        for i in hit:
            if int(hashed[i]) in wanted:
                found[int(hashed[i])] = f"{int(numbers[i]):012d}"
    guessed = np.full(population.size, None, dtype=object)
    for r in range(population.size):
        for token in values[offsets[r] : offsets[r + 1]]:
            if int(token) in found:
                guessed[r] = found[int(token)]
                break
    truth = population.truth(column.truth)
    return AttackResult.scored(
        "dictionary",
        target,
        column,
        guessed,
        truth,
        started,
        candidates=float(len(numbers) * len(guesses)),
    )
