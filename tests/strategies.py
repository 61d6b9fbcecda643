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


# --- Linkage core: bit matrices, token lists, hashed rounds (helper C) ---------------------------
import numpy as _np  # noqa: E402
import polars as _pl  # noqa: E402

LINK_AGENCIES = ("bup", "fritid", "polis", "skola", "socialtjanst")


@_st.composite
def bit_matrices(draw: _st.DrawFn, max_rows: int = 12, words: int | None = None) -> _np.ndarray:
    """Packed bit matrices ``uint64[n, w]``: empty rows, full rows, sparse and dense rows."""
    w = draw(_st.integers(1, 4)) if words is None else words
    n = draw(_st.integers(0, max_rows))
    word = _st.one_of(
        _st.just(0), _st.just(2**64 - 1), _st.integers(0, 2**64 - 1), _st.sampled_from([1, 2**63])
    )
    rows = draw(_st.lists(_st.lists(word, min_size=w, max_size=w), min_size=n, max_size=n))
    return _np.array(rows, dtype=_np.uint64).reshape(n, w)


@_st.composite
def token_owner_arrays(
    draw: _st.DrawFn, max_records: int = 20, max_tokens: int = 40
) -> tuple[int, _np.ndarray, _np.ndarray]:
    """(n records, tokens uint64, owners int64): small token spaces so tokens repeat."""
    n = draw(_st.integers(1, max_records))
    space = draw(_st.sampled_from([3, 10, 2**64 - 1]))
    m = draw(_st.integers(0, max_tokens))
    tokens = draw(_st.lists(_st.integers(0, space), min_size=m, max_size=m))
    owners = draw(_st.lists(_st.integers(0, n - 1), min_size=m, max_size=m))
    return n, _np.array(tokens, dtype=_np.uint64), _np.array(owners, dtype=_np.int64)


def _flip(base: bytes, flips: list[int]) -> bytes:
    out = bytearray(base)
    for bit in flips:
        out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@_st.composite
def linkage_rounds(
    draw: _st.DrawFn,
    max_children: int = 6,
    token_space: int = 1000,
    nbits: int = 128,
) -> list:  # list[HashedFile]
    """A round of hashed files built directly: children seen by several agencies, with noise.

    Each child has an identity token, a name token, a block token and a base encoding; each of
    its records keeps or drops each of them and flips a few encoding bits. A small
    ``token_space`` makes different children share tokens (adversarial chains).
    """
    from matcher.steward.hashed_file import (
        HASHED_SCHEMA,
        EncodingParams,
        HashedFile,
        HashedFileHeader,
    )

    n_children = draw(_st.integers(1, max_children))
    rows: dict[str, list[dict[str, object]]] = {a: [] for a in LINK_AGENCIES}
    for _ in range(n_children):
        id_token = draw(_st.integers(1, token_space))
        name_token = draw(_st.integers(1, token_space))
        block_token = draw(_st.integers(1, 3))
        base = draw(_st.binary(min_size=nbits // 8, max_size=nbits // 8))
        for agency in draw(_st.sets(_st.sampled_from(LINK_AGENCIES), min_size=1, max_size=4)):
            for _ in range(draw(_st.integers(1, 2))):
                flips = draw(_st.lists(_st.integers(0, nbits - 1), max_size=6))
                rows[agency].append(
                    {
                        "ref": draw(_st.uuids()).hex,
                        "agency": agency,
                        "signal": draw(_st.sampled_from(["frånvaro", "oro", "brott", None])),
                        "signal_date": draw(
                            _st.none()
                            | _st.dates(min_value=_date(2024, 1, 1), max_value=_date(2024, 12, 31))
                        ),
                        "id_token": draw(_st.sampled_from([id_token, None])),
                        "name_tokens": draw(_st.sampled_from([[name_token], []])),
                        "block_tokens": [block_token],
                        "bloom": draw(_st.sampled_from([_flip(base, flips), None])),
                    }
                )
    files = []
    for agency, recs in rows.items():
        if not recs:
            continue
        frame = _pl.DataFrame(recs, schema=HASHED_SCHEMA)
        frame = frame.unique("ref", keep="first", maintain_order=True)
        header = HashedFileHeader(
            round_id="round-test",
            agency=agency,
            key_check="00" * 8,
            row_count=frame.height,
            encoding=EncodingParams(bits=nbits),
        )
        files.append(HashedFile(header=header, frame=frame))
    return files


# --- Coordinator service: linkage case rows (helper D) -------------------------------------------
import polars as _polars  # noqa: E402

_SERVICE_AGENCIES = ("skola", "socialtjanst", "polis", "fritid", "bup")
_SERVICE_SIGNALS = ("frånvaro", "orosanmälan", "ringa brott", "avstängd", None)


@_st.composite
def linkage_case_rows(draw: _st.DrawFn, max_cases: int = 8) -> _polars.DataFrame:
    """Rows shaped like ``LinkageResult.cases``: each case spans >= 2 agencies, unique refs."""
    rows: list[dict[str, object]] = []
    serial = 0
    for case in range(draw(_st.integers(0, max_cases))):
        agencies = draw(
            _st.lists(_st.sampled_from(_SERVICE_AGENCIES), min_size=2, max_size=4, unique=True)
        )
        for agency in agencies:
            for _ in range(draw(_st.integers(1, 3))):
                serial += 1
                rows.append(
                    {
                        "case_id": case * 7 + 3,
                        "agency": agency,
                        "ref": f"ref{serial:05d}",
                        "signal": draw(_st.sampled_from(_SERVICE_SIGNALS)),
                        "signal_date": draw(
                            _st.none() | _st.dates(_date(2026, 1, 1), _date(2026, 12, 31))
                        ),
                    }
                )
    schema = {
        "case_id": _polars.Int64,
        "agency": _polars.Utf8,
        "ref": _polars.Utf8,
        "signal": _polars.Utf8,
        "signal_date": _polars.Date,
    }
    return _polars.DataFrame(rows, schema=schema)


# --- Synthetic data and evaluation: small clusterings with a truth (helper E) ---------------------
import polars as _pe  # noqa: E402

EVAL_LABELS = ("id_typo", "name_deletion", "surname_dropped")


@_st.composite
def clusterings(draw: _st.DrawFn, max_records: int = 30) -> tuple[_pe.DataFrame, _pe.DataFrame]:
    """(predicted clusters, truth) over the same records: few agencies, children and clusters.

    Small id spaces make clusters and children overlap in every way (merges, splits, both);
    cluster ids are strings, some records are left out of the prediction (singletons).
    """
    n = draw(_st.integers(0, max_records))
    agencies = ("skola", "polis", "socialtjanst", "fritid")
    rows = []
    for i in range(n):
        rows.append(
            {
                "agency": draw(_st.sampled_from(agencies)),
                "record_id": f"R{i:03d}",
                "child_id": draw(_st.integers(0, 6)),
                "cluster": draw(_st.integers(0, 6)),
                "error_types": draw(_st.lists(_st.sampled_from(EVAL_LABELS), unique=True)),
                "id_kind": draw(_st.sampled_from(["personnummer", "samordningsnummer", "none"])),
                "predicted": draw(_st.booleans() | _st.just(True)),
            }
        )
    schema: dict[str, _pe.DataType] = {
        "agency": _pe.String(),
        "record_id": _pe.String(),
        "child_id": _pe.Int64(),
        "cluster": _pe.Int64(),
        "error_types": _pe.List(_pe.String()),
        "id_kind": _pe.String(),
        "predicted": _pe.Boolean(),
    }
    frame = _pe.DataFrame(rows, schema=schema)
    truth = frame.select("agency", "record_id", "child_id", "error_types", "id_kind")
    predicted = frame.filter(_pe.col("predicted")).select(
        "agency", "record_id", _pe.format("c{}", _pe.col("cluster")).alias("cluster_id")
    )
    return predicted, truth


# --- Keyed hashing: normalised records as matcher.steward.normalise emits them (helper B) ---
import polars as _pl_b  # noqa: E402

_B_GIVEN = ("anna", "åsa", "märta", "björn", "östen", "mohammed", "elias", "ebba", "zoë", "noor")
_B_SURNAMES = ("andersson", "öberg", "åkesson", "lindström", "johansson", "nguyen", "björk", "sjöö")
_B_LETTERS = "abcdefghijklmnopqrstuvwxyzåäöé"
_B_ID_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-"
#: Columns and types of matcher.steward.normalise's records (the hashing input).
B_RECORD_SCHEMA: dict[str, _pl_b.DataType] = {
    "row": _pl_b.Int64(),
    "record_id": _pl_b.String(),
    "pnr": _pl_b.String(),
    "pnr_kind": _pl_b.String(),
    "given_names": _pl_b.List(_pl_b.String()),
    "surnames": _pl_b.List(_pl_b.String()),
    "birth_date": _pl_b.Date(),
    "signal": _pl_b.String(),
    "signal_date": _pl_b.Date(),
}


def hashing_names(min_size: int = 2) -> _st.SearchStrategy[str]:
    """One normalised name part (lower case, å/ä/ö kept), common or random letters."""
    common = _st.sampled_from([n for n in _B_GIVEN + _B_SURNAMES if len(n) >= min_size])
    return _st.one_of(common, _st.text(_B_LETTERS, min_size=min_size, max_size=12))


@_st.composite
def normalised_record_dicts(draw: _st.DrawFn, min_name: int = 2, min_id: int = 1) -> dict:
    """One record of matcher.steward.normalise's contract (pnr, if any, valid and canonical)."""
    pnr = draw(_st.none() | valid_identity_numbers())
    kind = None
    if pnr is not None:
        kind = "samordningsnummer" if int(pnr[6:8]) > 60 else "personnummer"
    born = draw(_st.none() | _st.dates(min_value=_date(1990, 1, 1), max_value=_date(2025, 12, 31)))
    return {
        "record_id": draw(_st.text(_B_ID_CHARS, min_size=min_id, max_size=14)),
        "pnr": pnr,
        "pnr_kind": kind,
        "given_names": draw(_st.lists(hashing_names(min_name), max_size=3)),
        "surnames": draw(_st.lists(hashing_names(min_name), max_size=2)),
        "birth_date": born,
        "signal": draw(_st.sampled_from(["frånvaro", "orosanmälan", None])),
        "signal_date": draw(
            _st.none() | _st.dates(min_value=_date(2026, 1, 1), max_value=_date(2026, 10, 31))
        ),
    }


def records_frame(rows: list[dict]) -> _pl_b.DataFrame:
    """A records frame (RECORD_SCHEMA) from record dicts, numbering rows from 2."""
    numbered = [{"row": i + 2, **r} for i, r in enumerate(rows)]
    return _pl_b.DataFrame(numbered, schema=B_RECORD_SCHEMA)


@_st.composite
def normalised_records(
    draw: _st.DrawFn, min_rows: int = 0, max_rows: int = 12, min_name: int = 2, min_id: int = 1
) -> _pl_b.DataFrame:
    """A frame of normalised records (the input of matcher.steward.hashing.hash_records)."""
    rows = draw(
        _st.lists(normalised_record_dicts(min_name, min_id), min_size=min_rows, max_size=max_rows)
    )
    return records_frame(rows)
