"""Sound keys: one spelling-independent key per folded name, for Swedish and transliterated names.

A sound key keeps what two spellings of one name share and drops what transliteration and
Swedish spelling vary: vowels after the first letter (Mohammed / Muhammad / Mohamad all become
``mhmd``), doubled letters, silent or interchangeable letters (``h`` after ``s``, ``c``, ``t``,
``p``, ``k``, ``g``, ``d``; ``w``/``v``, ``z``/``s``, ``c``/``k``/``q``, ``ph``/``f``, and
``j``/``y``/``i`` at the start: Josef / Yosef / Yusuf), and common Swedish spelling pairs
(``sch``/``sj``/``sh``, ``ck``/``k``, ``dt``/``t``, ``x``/``ks``). The first letter is kept (a
vowel as ``a``), so Ali and Eli agree but Ali and Hali do not. It is a blunt key by design:
agreeing sound keys are weaker evidence than agreeing names, and the comparison model learns how
much weaker from the round's own data.

Inputs are folded names (``names.fold``: ASCII lower case). Examples: Hussein, Husein, Hussain
→ ``hsn``; Yousef, Yusuf, Josef → ``ysf``; Mohammed, Muhammad, Mohamad → ``mhmd``; Karlsson,
Carlson → ``krlsn``; Schmidt, Smidt → ``smt``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

__all__ = ["sound_key", "sound_keys"]

_VOWELS = frozenset("aeiouyåäö")
# multi-letter spellings first; applied left to right on the folded name
_REWRITES: tuple[tuple[str, str], ...] = (
    ("sch", "s"),
    ("sj", "s"),
    ("sh", "s"),
    ("skj", "s"),
    ("stj", "s"),
    ("tj", "k"),
    ("kj", "k"),
    ("ch", "k"),
    ("ck", "k"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("kh", "k"),
    ("gh", "g"),
    ("dt", "t"),
    ("dj", "j"),
    ("gj", "j"),
    ("hj", "j"),
    ("lj", "j"),
    ("x", "ks"),
    ("qu", "kv"),
    ("q", "k"),
    ("c", "k"),
    ("w", "v"),
    ("z", "s"),
)
_REWRITE_RE = re.compile("|".join(re.escape(a) for a, _ in _REWRITES))
_REWRITE_MAP = dict(_REWRITES)


@lru_cache(maxsize=65536)
def sound_key(name: str) -> str:
    """The sound key of one folded name ("" for an empty name)."""
    letters = "".join(ch for ch in name if ch.isalpha())
    letters = "".join(ch for k, ch in enumerate(letters) if not k or ch != letters[k - 1])
    if not letters:
        return ""
    head = letters[0]
    if head in "jy" or (head == "i" and len(letters) > 1 and letters[1] in _VOWELS):
        first = "y"  # Josef / Yosef / Iosef: one sound
    elif head in _VOWELS:
        first = "a"
    else:
        first = ""
    rest = letters if first == "" else letters[1:]
    body = _REWRITE_RE.sub(lambda m: _REWRITE_MAP[m.group(0)], rest)
    out: list[str] = [first] if first else []
    previous = ""
    for ch in body:
        if ch != previous and ch not in _VOWELS:  # doubled letters once; vowels spell only
            out.append(ch)
        previous = ch
    return "".join(out)


def sound_keys(names: pl.Series) -> pl.Series:
    """Sound key of each folded name of a (distinct) name table; null stays null."""
    return names.map_elements(sound_key, return_dtype=pl.Utf8, skip_nulls=True)
