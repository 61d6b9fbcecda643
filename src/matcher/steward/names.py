"""Name normalisation for Swedish names: one canonical spelling, name parts, and ASCII folding.

Each function has a scalar form (plain Python, the readable reference) and a polars expression
form (``*_expr``) for millions of rows; tests check that the two agree.

- `normalise_name`: NFKC, lower case, every dash made ``-`` and every apostrophe ``'``, anything
  that is not a letter, combining mark, space, ``-`` or ``'`` made a space, spaces around hyphens
  removed, whitespace collapsed and trimmed. å, ä, ö, é and all other letters are kept.
- `given_names`: every given name in order, split on spaces *and* hyphens, so "Anna-Karin" and
  "Anna Karin" give the same parts (the calling name may be any of them).
- `surname_parts`: the parts of a double surname (hyphen or space, either order is the caller's
  concern); nobility particles (af, av, von, de, van, der, ...) are dropped unless nothing else is
  left, so "af Klint" and "Klint" share a part.
- `fold`: ASCII folding for fuzzy encodings, the rule documented on the function.
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

from matcher.steward.identifiers import APOSTROPHES, DASHES

__all__ = [
    "PARTICLES",
    "fold",
    "fold_expr",
    "fold_names",
    "given_names",
    "given_names_expr",
    "name_parts",
    "normalise_name",
    "normalise_name_expr",
    "normalise_names",
    "surname_parts",
    "surname_parts_expr",
]

#: Nobility and family-name particles dropped from surname parts when another part remains.
PARTICLES: frozenset[str] = frozenset(
    {"af", "av", "von", "van", "der", "den", "de", "des", "du", "zu", "vom", "ter", "ten", "del"}
)

# Letters that NFKD does not decompose to ASCII, mapped by hand (applied after NFKD).
_SPECIAL: dict[str, str] = {
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ß": "ss",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ł": "l",
    "ı": "i",
}

_DASH_RE = f"[{DASHES}]"
_APOS_RE = f"[{APOSTROPHES}]"
_HYPHEN_SPACES_RE = r" *- *"
_MULTI_HYPHEN_RE = r"-{2,}"
_MULTI_APOS_RE = r"'{2,}"
_SPACES_RE = r" {2,}"
_EDGE_START_RE = r"(^| )[-']+"
_EDGE_END_RE = r"[-']+( |$)"
_VOWEL_E_RE = r"([aou])e+"
_A_RUN_RE = r"a{2,}"


def _keep(ch: str) -> bool:
    """A letter, a combining mark, a space, a hyphen or an apostrophe."""
    return ch in " -'" or unicodedata.category(ch)[0] in "LM"


def normalise_name(s: str | None) -> str | None:
    """One canonical spelling of a name (see the module docstring); None stays None."""
    if s is None:
        return None
    s = unicodedata.normalize("NFKC", s).lower()
    s = re.sub(_DASH_RE, "-", s)
    s = re.sub(_APOS_RE, "'", s)
    s = "".join(ch if _keep(ch) else " " for ch in s)
    s = re.sub(_HYPHEN_SPACES_RE, "-", s)
    s = re.sub(_MULTI_HYPHEN_RE, "-", s)
    s = re.sub(_MULTI_APOS_RE, "'", s)
    s = re.sub(_SPACES_RE, " ", s)
    s = re.sub(_EDGE_START_RE, r"\1", s)
    s = re.sub(_EDGE_END_RE, r"\1", s)
    s = re.sub(_SPACES_RE, " ", s).strip(" ")
    return unicodedata.normalize("NFC", s)


def normalise_name_expr(expr: pl.Expr) -> pl.Expr:
    """`normalise_name` as a polars expression over a string column."""
    return (
        expr.str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all(_DASH_RE, "-")
        .str.replace_all(_APOS_RE, "'")
        .str.replace_all(r"[^\p{L}\p{M} \-']", " ")
        .str.replace_all(_HYPHEN_SPACES_RE, "-")
        .str.replace_all(_MULTI_HYPHEN_RE, "-")
        .str.replace_all(_MULTI_APOS_RE, "'")
        .str.replace_all(_SPACES_RE, " ")
        .str.replace_all(_EDGE_START_RE, "${1}")
        .str.replace_all(_EDGE_END_RE, "${1}")
        .str.replace_all(_SPACES_RE, " ")
        .str.strip_chars(" ")
        .str.normalize("NFC")
    )


def _parts(normalised: str | None) -> list[str]:
    """Split a normalised name on spaces and hyphens, dropping empty parts."""
    if not normalised:
        return []
    return [p for p in re.split(r"[ -]", normalised) if p]


def given_names(s: str | None) -> list[str]:
    """Every given name, normalised, in the written order (hyphenated names split into parts)."""
    return _parts(normalise_name(s))


def surname_parts(s: str | None) -> list[str]:
    """Surname parts, normalised, in order; particles dropped unless nothing else would remain."""
    parts = _parts(normalise_name(s))
    kept = [p for p in parts if p not in PARTICLES]
    return kept or parts


_PART_RE = r"[^ \-]+"
_EMPTY_PARTS: list[str] = []


def _split_expr(normalised: pl.Expr) -> pl.Expr:
    """Split a normalised name on spaces and hyphens; null or empty gives an empty list.

    Extracting the runs between separators (rather than ``split`` under a ``when`` on a list)
    is several times faster and gives the same parts: a normalised name has no empty parts.
    """
    return normalised.str.extract_all(_PART_RE).fill_null(_EMPTY_PARTS)


def given_names_expr(expr: pl.Expr) -> pl.Expr:
    """`given_names` as a polars expression (List[String]; null input gives an empty list)."""
    return _split_expr(normalise_name_expr(expr))


_PARTICLE = pl.element().is_in(sorted(PARTICLES))


def surname_parts_expr(expr: pl.Expr) -> pl.Expr:
    """`surname_parts` as a polars expression (List[String]; null input gives an empty list)."""
    # Keep a part unless it is a particle and some part is not; one chain, nothing computed twice.
    return _split_expr(normalise_name_expr(expr)).list.eval(
        pl.element().filter(~_PARTICLE | _PARTICLE.all())
    )


# Fast path: words of Latin-1 letters (ASCII and À-ÿ but × and ÷) joined by single spaces,
# hyphens or apostrophes. NFKC and NFC leave these letters alone and no rule of the chain matches,
# so `normalise_name` of such a value is its lower case.
_LATIN1_LETTER = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff"
_PLAIN_NAME_RE = f"^[{_LATIN1_LETTER}]+(?:[ '-][{_LATIN1_LETTER}]+)*$"
# A normalised name with a particle among its parts (a run between separators or ends).
_HAS_PARTICLE_RE = "(?:^|[ -])(?:" + "|".join(sorted(PARTICLES)) + ")(?:[ -]|$)"


def _plain_split(values: pl.Series, *, split: bool = True) -> pl.DataFrame:
    """Columns ``i`` (row), ``norm`` (`normalise_name_expr`) and with ``split`` ``parts``
    (`_split_expr` of it).

    Plain names (the vast majority) are just lower-cased and split at literal spaces and hyphens
    (their parts are never empty); the rest go through the regex chain.
    """
    frame = values.cast(pl.String).rename("name").to_frame().with_row_index("i")
    plain = pl.col("name").str.contains(_PLAIN_NAME_RE).fill_null(True)
    lower = pl.col("name").str.to_lowercase()
    parts = lower.str.replace_all("-", " ", literal=True).str.split(" ").fill_null(_EMPTY_PARTS)
    fast = frame.filter(plain).select("i", norm=lower, parts=parts)
    slow = frame.filter(~plain).select("i", norm=normalise_name_expr(pl.col("name")))
    if split:
        slow = slow.with_columns(parts=_split_expr(pl.col("norm")))
    else:
        fast = fast.drop("parts")
    if slow.height == 0:
        return fast
    return pl.concat([fast, slow]).sort("i")


def normalise_names(values: pl.Series) -> pl.Series:
    """`normalise_name_expr` over a String series, the full regex chain only where needed.

    The result is the same as the expression's, value for value.
    """
    return _plain_split(values, split=False)["norm"].rename(values.name)


def name_parts(values: pl.Series, *, surname: bool) -> pl.Series:
    """`given_names_expr` (or with ``surname``, `surname_parts_expr`) over a String series.

    Plain names skip the regex chain, and particles are filtered only from names that have one;
    the result is the same as the expression's, value for value.
    """
    frame = _plain_split(values)
    if not surname:
        return frame["parts"].rename(values.name)
    particle = pl.col("norm").str.contains(_HAS_PARTICLE_RE).fill_null(False)
    with_particle = frame.filter(particle)
    if with_particle.height == 0:
        return frame["parts"].rename(values.name)
    merged = pl.concat(
        [
            frame.filter(~particle).select("i", "parts"),
            with_particle.select(
                "i", pl.col("parts").list.eval(pl.element().filter(~_PARTICLE | _PARTICLE.all()))
            ),
        ]
    ).sort("i")
    return merged["parts"].rename(values.name)


def fold(s: str | None) -> str | None:
    """ASCII-fold a name for fuzzy encodings, so Åsa/Asa/Aasa and Jönsson/Joensson/Jonsson agree.

    The rule, applied after `normalise_name`: drop apostrophes; NFKD and drop combining marks
    (å→a, ä→a, ö→o, é→e, ü→u); map ø→o, æ→ae, œ→oe, ß→ss, đ/ð→d, þ→th, ł→l, ı→i; clean up again as
    `normalise_name` does; then, for the ICAO passport spellings Å→AA, Ä→AE, Ö→OE, Ü→UE, drop every
    ``e`` run after a/o/u and collapse runs of ``a`` (so "aa"→"a", "ae"→"a", "oe"→"o", "ue"→"u").
    Applied the same way to every name,
    it also merges some unrelated spellings (Mikael/Mikal): acceptable for a fuzzy encoding.
    Letters with no ASCII form (Cyrillic, Arabic, ...) are kept as they are. Idempotent.
    """
    n = normalise_name(s)
    if n is None:
        return None
    n = n.replace("'", "")
    n = "".join(ch for ch in unicodedata.normalize("NFKD", n) if unicodedata.category(ch) != "Mn")
    n = normalise_name("".join(_SPECIAL.get(ch, ch) for ch in n)) or ""
    n = re.sub(_VOWEL_E_RE, r"\1", n)
    return re.sub(_A_RUN_RE, "a", n)


def fold_names(values: pl.Series) -> pl.Series:
    """`fold_expr` over a String series, the full chain only where needed: a name of ASCII
    letters a-z only is already NFKD, mark- and apostrophe-free and normalised, so only the
    ICAO rules apply to it. The result is the same as the expression's, value for value."""
    frame = values.cast(pl.String).rename("name").to_frame().with_row_index("i")
    plain = pl.col("name").str.contains("^[a-z]+$").fill_null(False)
    icao = pl.col("name").str.replace_all(_VOWEL_E_RE, "${1}").str.replace_all(_A_RUN_RE, "a")
    fast = frame.filter(plain).select("i", folded=icao)
    slow = frame.filter(~plain).select("i", folded=fold_expr(pl.col("name")))
    if slow.height == 0:
        return fast["folded"].rename(values.name)
    return pl.concat([fast, slow]).sort("i")["folded"].rename(values.name)


def fold_expr(expr: pl.Expr) -> pl.Expr:
    """`fold` as a polars expression over a string column."""
    stripped = (
        normalise_name_expr(expr)
        .str.replace_all("'", "", literal=True)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}", "")
        .str.replace_many(list(_SPECIAL), list(_SPECIAL.values()))
    )
    return (
        normalise_name_expr(stripped)
        .str.replace_all(_VOWEL_E_RE, "${1}")
        .str.replace_all(_A_RUN_RE, "a")
    )
