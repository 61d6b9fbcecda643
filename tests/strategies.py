"""Hypothesis strategies shared by the tests (one section per area)."""

from __future__ import annotations

# --- Steward side: identity numbers, names, dates (helper A) -------------------------------------
from datetime import date as _date
from datetime import timedelta as _timedelta

from hypothesis import strategies as _st

#: The round reference date every steward-side test uses.
REFERENCE_DATE = _date(2026, 11, 1)

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _luhn(nine: str) -> int:
    """Luhn check digit over nine digits (test twin, written independently of the library)."""
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return (10 - total % 10) % 10


@_st.composite
def valid_identity_numbers(draw: _st.DrawFn, kinds: tuple[str, ...] = ("pnr", "snr")) -> str:
    """A canonical 12-digit personnummer or samordningsnummer of someone under 99 years old."""
    born = draw(
        _st.dates(min_value=REFERENCE_DATE - _timedelta(days=365 * 99), max_value=REFERENCE_DATE)
    )
    kind = draw(_st.sampled_from(kinds))
    day = born.day + (60 if kind == "snr" else 0)
    nine = f"{born.year % 100:02d}{born.month:02d}{day:02d}{draw(_st.integers(0, 999)):03d}"
    return f"{born.year // 100:02d}{nine}{_luhn(nine)}"


def written_forms(canonical: str) -> list[str]:
    """Every accepted way of writing one canonical number (for a person under 100)."""
    short, long_ = canonical[2:], canonical
    forms = [
        long_,
        f"{long_[:8]}-{long_[8:]}",
        short,
        f"{short[:6]}-{short[6:]}",
        f"{short[:6]} - {short[6:]}",
        f"{short[:6]}\u2013{short[6:]}",
        f"{short[:6]}\u2212{short[6:]}",
        f"\u00a0{long_[:8]}-{long_[8:]} ",
        f"'{short[:6]}-{short[6:]}",
        f"'{long_}",
        long_.translate(_FULLWIDTH),
        f"{short[:6]}\uff0d{short[6:]}".translate(_FULLWIDTH),
        f"{long_[:4]} {long_[4:8]} {long_[8:]}",
    ]
    return forms


@_st.composite
def written_identity_numbers(draw: _st.DrawFn) -> tuple[str, str]:
    """(canonical, one accepted written form of it)."""
    canonical = draw(valid_identity_numbers())
    return canonical, draw(_st.sampled_from(written_forms(canonical)))


@_st.composite
def invalid_luhn_identity_numbers(draw: _st.DrawFn) -> str:
    """A canonical-looking 12-digit number whose check digit is wrong."""
    canonical = draw(valid_identity_numbers())
    wrong = draw(_st.sampled_from([d for d in "0123456789" if d != canonical[-1]]))
    return canonical[:-1] + wrong


_GIVEN = [
    "Anna", "Åsa", "Björn", "Märta", "Östen", "Émile", "Anna-Karin", "Per", "Lars", "Ängel",
    "Mohammed", "Noor", "Sofie", "Göran", "Zoë", "Leo", "Ebba", "Maja", "Elias", "Aisha",
]  # fmt: skip
_SURNAME = [
    "Andersson", "Öberg", "Åkesson", "Lindström", "Johansson", "Nyström", "Ekdahl", "Hägg",
    "af Klint", "von Essen", "de Geer", "Björk", "Al-Hassan", "Nguyen", "Ström", "Sjöö",
]  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyzåäöéüABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖÉÜ"


def swedish_given_names() -> _st.SearchStrategy[str]:
    """One or more given names, with å/ä/ö/é, odd case and stray whitespace."""
    one = _st.one_of(_st.sampled_from(_GIVEN), _st.text(_LETTERS, min_size=1, max_size=10))
    return _st.lists(one, min_size=1, max_size=3).flatmap(
        lambda parts: _st.sampled_from([" ", "  ", " \u00a0"]).map(lambda sep: sep.join(parts))
    )


def swedish_surnames() -> _st.SearchStrategy[str]:
    """A single, double (space) or hyphenated surname, sometimes with a particle."""
    one = _st.one_of(_st.sampled_from(_SURNAME), _st.text(_LETTERS, min_size=2, max_size=12))
    return _st.tuples(one, one, _st.sampled_from(["", " ", "-", " - ", "\u2013"])).map(
        lambda t: t[0] if not t[2] else f"{t[0]}{t[2]}{t[1]}"
    )


def name_like_text() -> _st.SearchStrategy[str]:
    """Arbitrary text from assigned code points below U+3000 (both regex engines agree on them)."""
    return _st.text(
        _st.characters(
            max_codepoint=0x2FFF,
            categories=("L", "M", "N", "P", "S", "Zs"),
        ),
        max_size=20,
    )
