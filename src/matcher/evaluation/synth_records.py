"""One row per record: the written values and the data-entry errors, with a label per error."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from matcher.evaluation import synth_names as names
from matcher.evaluation.synth_config import SynthConfig
from matcher.evaluation.synth_people import _Children, _date_digits, _Pools
from matcher.evaluation.synth_profiles import _DATE_FORMATS, _ID_FORMS, ERROR_TYPES, AgencyProfile
from matcher.steward.identifiers import luhn_check_digits

# ---------------------------------------------------------------------------------------------
# Per-record errors


def _nullable(idx: np.ndarray) -> pl.Series:
    """Index array with -1 for 'absent' as an Int64 series with nulls (for gather)."""
    series = pl.Series(idx.astype(np.int64))
    return pl.select(pl.when(series >= 0).then(series)).to_series()


def _mask(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Rows hit by an event of the given rate."""
    return rng.random(n) < rate


# Per form code (index into _ID_FORMS; 6 = '+' separator, 7 = leading zero lost): where the date
# part starts in the 12-digit string and which separator follows it. The serial part is always
# the last four digits, so every form is slice(start, 8 - start) + separator + slice(8, 4).
_FORM_START = (0, 0, 2, 2, 0, 2, 2, 3)
_FORM_SEPARATOR = ("", "-", "-", "", " ", " ", "+", "")


def _render_ids(s12: pl.Expr, form: pl.Expr) -> pl.Expr:
    """Write 12-digit strings in the form coded per row, in one vectorised expression."""
    codes = list(range(len(_FORM_START)))
    start = form.replace_strict(codes, list(_FORM_START), return_dtype=pl.Int64)
    separator = form.replace_strict(codes, list(_FORM_SEPARATOR), return_dtype=pl.String)
    return pl.concat_str([s12.str.slice(start, 8 - start), separator, s12.str.slice(8, 4)])


def _format_dates(days: np.ndarray, fmt: np.ndarray, missing: np.ndarray) -> pl.Series:
    """Dates written in the format coded per row (index into _DATE_FORMATS); null where missing.

    Formats each distinct (date, format) once and joins, which is much faster than formatting
    every row in every format.
    """
    rows = pl.DataFrame({"d": pl.Series(days), "f": pl.Series(fmt.astype(np.int8))})
    distinct = rows.unique()
    patterns = list(_DATE_FORMATS.values())
    text = pl.concat(
        [
            distinct.filter(pl.col("f") == code).with_columns(t=pl.col("d").dt.strftime(pattern))
            for code, pattern in enumerate(patterns)
        ]
    )
    joined = rows.join(text, on=["d", "f"], how="left", maintain_order="left")["t"]
    return pl.select(pl.when(pl.Series(missing)).then(None).otherwise(joined)).to_series()


def _label_lists(labels: Mapping[str, np.ndarray], n: int) -> pl.Series:
    """The per-record list of error labels, built from a bit code per record and a join."""
    code = np.zeros(n, dtype=np.int64)
    for bit, name in enumerate(ERROR_TYPES):
        if name in labels:  # the harsh profile's labels exist only where it drew them
            code |= labels[name].astype(np.int64) << bit
    distinct = np.unique(code)
    table = pl.DataFrame(
        {
            "code": distinct,
            "error_types": [
                [name for bit, name in enumerate(ERROR_TYPES) if c >> bit & 1] for c in distinct
            ],
        },
        schema={"code": pl.Int64, "error_types": pl.List(pl.String)},
    )
    frame = pl.DataFrame({"code": code})
    return frame.join(table, on="code", how="left", maintain_order="left")["error_types"]


def _typo(value: str, op: int, where: float, letter: float) -> str:
    """One-letter typo: 0 substitution, 1 deletion, 2 doubling, at a relative position."""
    letters = [i for i, c in enumerate(value) if c.isalpha()]
    if len(letters) < 3:
        return value
    i = letters[min(int(where * len(letters)), len(letters) - 1)]
    if op == 1:
        return value[:i] + value[i + 1 :]
    if op == 2:
        return value[: i + 1] + value[i] + value[i + 1 :]
    alphabet = "abcdefghijklmnoprstuvy"
    new = alphabet[int(letter * len(alphabet))]
    if new == value[i].lower():
        new = alphabet[(alphabet.index(new) + 1) % len(alphabet)]
    return value[:i] + (new.upper() if value[i].isupper() else new) + value[i + 1 :]


_FOLD = {"å": "a", "ä": "a", "ö": "o", "é": "e", "Å": "A", "Ä": "A", "Ö": "O", "É": "E"}
_ICAO = {"å": "aa", "ä": "ae", "ö": "oe", "Å": "Aa", "Ä": "Ae", "Ö": "Oe"}


def _cp1252_safe(value: str) -> str:
    """Replace letters Windows-1252 cannot hold by their base letter (ć -> c), like exports do."""
    try:
        value.encode("cp1252")
        return value
    except UnicodeEncodeError:
        out = []
        for ch in value:
            try:
                ch.encode("cp1252")
                out.append(ch)
            except UnicodeEncodeError:
                base = unicodedata.normalize("NFKD", ch)[0]
                out.append(base if base.isascii() else "?")
        return "".join(out)


@dataclass
class _Draw:
    """What every stage of :func:`_records` reads: the random stream, settings, who is listed
    where, and the error labels the stages add to (one boolean array per label)."""

    rng: np.random.Generator
    cfg: SynthConfig
    pools: _Pools
    kids: _Children
    child: np.ndarray
    agency: np.ndarray
    labels: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        """Records drawn."""
        return int(self.child.shape[0])

    @property
    def profiles(self) -> list[AgencyProfile]:
        """The listed agencies' profiles, indexed by agency code."""
        return [self.cfg.profiles[a] for a in self.cfg.agencies]


def _identity_numbers(d: _Draw) -> pl.DataFrame:
    """Identity numbers as written: changed, mistyped, reformatted, missing or local."""
    rng, cfg, n, labels = d.rng, d.cfg, d.n, d.labels
    profiles, agency, child, kids = d.profiles, d.agency, d.child, d.kids
    kind = kids.kind[child]
    digits = kids.digits[child].copy()
    has_number = kind < 2
    renewed = kids.changed[child] & _mask(rng, n, 0.5)  # this agency has the new number
    digits[renewed] = kids.new_digits[child[renewed]]
    labels["id_changed"] = renewed
    typo = has_number & _mask(rng, n, cfg.id_typo_rate)
    rows = np.flatnonzero(typo)
    pos = rng.integers(2, 11, rows.size)  # the ten digits Luhn covers (not the check digit)
    digits[rows, pos] = (digits[rows, pos] + rng.integers(1, 10, rows.size)) % 10
    swap = has_number & ~typo & _mask(rng, n, cfg.id_transposition_rate)
    rows = np.flatnonzero(swap)
    done = np.zeros(rows.size, dtype=bool)
    for _ in range(4):  # adjacent digits that are equal cannot be swapped visibly
        pos = rng.integers(2, 11, rows.size)
        a_, b_ = digits[rows, pos], digits[rows, pos + 1]
        ok = ~done & (a_ != b_)
        digits[rows[ok], pos[ok]], digits[rows[ok], pos[ok] + 1] = b_[ok], a_[ok]
        done |= ok
    swap[rows[~done]] = False
    labels["id_typo"] = typo
    labels["id_transposition"] = swap
    changed = typo | swap
    rows = np.flatnonzero(changed)
    labels["id_wrong_but_valid"] = np.zeros(n, dtype=bool)
    labels["id_wrong_but_valid"][rows] = luhn_check_digits(digits[rows, 2:11]) == digits[rows, 11]
    s12 = pl.Series(np.ascontiguousarray(digits + 48).view("S12").ravel()).cast(pl.String)

    usual = np.array([_ID_FORMS.index(p.id_form) for p in profiles])[agency]
    other = _mask(rng, n, cfg.id_format_rate)
    form = np.where(other, (usual + rng.integers(1, 6, n)) % 6, usual)
    plus = has_number & _mask(rng, n, cfg.id_plus_rate)
    form = np.where(plus, 6, form)
    zero = has_number & ~plus & (digits[:, 2] == 0) & _mask(rng, n, cfg.id_leading_zero_rate)
    form = np.where(zero, 7, form)
    labels["id_format"] = has_number & other & ~plus & ~zero
    labels["id_plus_separator"] = plus
    labels["id_leading_zero_lost"] = zero
    missing = has_number & _mask(rng, n, cfg.id_missing_rate)
    labels["id_missing"] = missing
    local = ~has_number & _mask(rng, n, cfg.local_number_rate)
    labels["local_number"] = local
    reserve = np.array([p.local_number == "reserve" for p in profiles])[agency]
    local_seq = (child.astype(np.int64) * 7919 + agency * 104_729) % 100_000

    birth = kids.birth[child]
    written = pl.DataFrame({"s12": s12, "form": form.astype(np.int8)}).select(
        _render_ids(pl.col("s12"), pl.col("form"))
    )
    personnummer = written.to_series().scatter(np.flatnonzero(missing | ~has_number), None)
    rows = np.flatnonzero(local)
    if rows.size:  # local numbers only for the few children without a national number
        parts = pl.DataFrame(
            {"birth": birth[rows], "seq": local_seq[rows], "reserve": reserve[rows]}
        ).select(
            pl.when(pl.col("reserve"))
            .then(
                pl.concat_str(
                    [
                        pl.lit("99"),
                        pl.col("birth").dt.strftime("%Y"),
                        pl.col("seq").cast(pl.String).str.zfill(5),
                        pl.lit("1"),
                    ]
                )
            )
            .otherwise(
                pl.concat_str(
                    [
                        pl.col("birth").dt.strftime("%Y%m%d"),
                        pl.lit("-TF"),
                        (pl.col("seq") % 100).cast(pl.String).str.zfill(2),
                    ]
                )
            )
        )
        personnummer = personnummer.scatter(rows, parts.to_series())
    frame = pl.DataFrame({"personnummer": personnummer, "birth": birth})
    return frame


def _given_names(d: _Draw) -> pl.Series:
    """Given names in the agency's style (all, calling or first), sometimes another style."""
    rng, cfg, n, labels = d.rng, d.cfg, d.n, d.labels
    profiles, agency, child, kids, pools = d.profiles, d.agency, d.child, d.kids, d.pools
    style_all = np.array([p.given_names == "all" for p in profiles])[agency]
    style = np.where(style_all, 0, 1)  # 0 all given names, 1 calling name, 2 first given name
    variant = _mask(rng, n, cfg.given_name_variant_rate)
    style = np.where(variant, (style + rng.integers(1, 3, n)) % 3, style)
    n_given = kids.n_given[child]
    calling = kids.calling[child]
    given_idx = kids.given[child]
    written_calling = np.take_along_axis(given_idx, calling[:, None], axis=1)[:, 0]
    labels["calling_name_not_first"] = (style == 1) & (calling > 0)
    labels["given_names_partial"] = (n_given > 1) & (style > 0) & ~((style == 1) & (calling > 0))

    def pick(idx: np.ndarray) -> pl.Series:
        """Given-name strings for name indices (-1 gives null)."""
        return pools.given.gather(_nullable(idx))

    g = pl.DataFrame(
        {
            "g1": pick(given_idx[:, 0]),
            "g2": pick(given_idx[:, 1]),
            "g3": pick(given_idx[:, 2]),
            "gc": pick(written_calling),
            "style": style.astype(np.int8),
        }
    )
    first = g.select(
        pl.when(pl.col("style") == 0)
        .then(pl.concat_str(["g1", "g2", "g3"], separator=" ", ignore_nulls=True))
        .when(pl.col("style") == 1)
        .then(pl.col("gc"))
        .otherwise(pl.col("g1"))
    ).to_series()
    return first


def _surnames(d: _Draw) -> pl.Series:
    """Surnames with double-surname parts dropped, reordered or differently joined."""
    rng, cfg, n, labels = d.rng, d.cfg, d.n, d.labels
    child, kids, pools = d.child, d.kids, d.pools
    sur = kids.surname[child]
    double = sur[:, 1] >= 0
    dropped = double & _mask(rng, n, cfg.surname_dropped_rate)
    order = double & ~dropped & _mask(rng, n, cfg.surname_order_rate)
    sep = double & ~dropped & _mask(rng, n, cfg.surname_separator_rate)
    keep_second = rng.random(n) < 0.3
    part_a = np.where(order | (dropped & keep_second), sur[:, 1], sur[:, 0])
    part_b = np.where(dropped, -1, np.where(order, sur[:, 0], sur[:, 1]))
    hyphen = kids.hyphen[child] ^ sep
    labels["surname_dropped"] = dropped
    labels["surname_order"] = order
    labels["surname_separator"] = sep
    s = pl.DataFrame(
        {
            "a": pools.surname.gather(part_a),
            "b": pools.surname.gather(_nullable(part_b)),
            "h": hyphen,
        }
    )
    last = s.select(
        pl.when(pl.col("b").is_null())
        .then(pl.col("a"))
        .when(pl.col("h"))
        .then(pl.concat_str(["a", "b"], separator="-"))
        .otherwise(pl.concat_str(["a", "b"], separator=" "))
    ).to_series()
    return last


def _misspell(d: _Draw, first: pl.Series, last: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Spelling errors in both names: ASCII folding, ICAO spelling, typos, stray spaces."""
    rng, cfg, n, labels = d.rng, d.cfg, d.n, d.labels

    def apply(
        series: pl.Series, mask: np.ndarray, mapping: dict[str, str]
    ) -> tuple[pl.Series, np.ndarray]:
        """Apply a letter mapping to the masked rows; return the series and rows changed."""
        rows = np.flatnonzero(mask)
        old = series.gather(rows)
        new = old.str.replace_many(list(mapping), list(mapping.values()))
        hit = (new != old).fill_null(False).to_numpy()
        flag = np.zeros(n, dtype=bool)
        flag[rows[hit]] = True
        return series.scatter(rows[hit], new.filter(pl.Series(hit))), flag

    fold_mask = _mask(rng, n, cfg.ascii_fold_rate)
    first, f1 = apply(first, fold_mask, _FOLD)
    last, f2 = apply(last, fold_mask, _FOLD)
    labels["ascii_fold"] = f1 | f2
    icao_mask = _mask(rng, n, cfg.icao_rate) & ~fold_mask
    first, i1 = apply(first, icao_mask, _ICAO)
    last, i2 = apply(last, icao_mask, _ICAO)
    labels["icao_spelling"] = i1 | i2

    typo_rows = np.flatnonzero(_mask(rng, n, cfg.name_typo_rate))
    ops = rng.integers(0, 3, typo_rows.size)
    in_first = rng.random(typo_rows.size) < 0.5
    where = rng.random(typo_rows.size)
    letter = rng.random(typo_rows.size)
    for op_label, _op in (("name_substitution", 0), ("name_deletion", 1), ("name_doubling", 2)):
        labels[op_label] = np.zeros(n, dtype=bool)
    for target, is_first in (("first", True), ("last", False)):
        sel = in_first == is_first
        rows = typo_rows[sel]
        series = first if is_first else last
        old = series.gather(rows).to_list()
        new = [
            _typo(v, int(o), float(w), float(c))
            for v, o, w, c in zip(old, ops[sel], where[sel], letter[sel], strict=True)
        ]
        hit = np.array([a != b for a, b in zip(old, new, strict=True)], dtype=bool)
        for op_label, op in (("name_substitution", 0), ("name_deletion", 1), ("name_doubling", 2)):
            labels[op_label][rows[hit & (ops[sel] == op)]] = True
        series = series.scatter(rows, new)
        if target == "first":
            first = series
        else:
            last = series

    ws_rows = np.flatnonzero(_mask(rng, n, cfg.whitespace_rate))
    ws_first = rng.random(ws_rows.size) < 0.5
    labels["whitespace"] = np.zeros(n, dtype=bool)
    labels["whitespace"][ws_rows] = True
    first = first.scatter(
        ws_rows[ws_first], [f" {v} " for v in first.gather(ws_rows[ws_first]).to_list()]
    )
    last = last.scatter(
        ws_rows[~ws_first], [f"{v}  " for v in last.gather(ws_rows[~ws_first]).to_list()]
    )
    return first, last


def _as_written(d: _Draw, frame: pl.DataFrame, first: pl.Series, last: pl.Series) -> pl.DataFrame:
    """Names into the frame as the agency's system writes them: upper case, Windows-1252 loss."""
    n, labels, profiles, agency = d.n, d.labels, d.profiles, d.agency
    upper = np.array([p.upper_case for p in profiles])[agency]
    cp1252 = np.array([p.encoding == "cp1252" for p in profiles])[agency]
    frame = frame.with_columns(
        first=first, last=last, upper=upper, cp1252=cp1252, agency=agency.astype(np.int16)
    ).with_columns(
        pl.when(pl.col("upper")).then(pl.col(c).str.to_uppercase()).otherwise(pl.col(c)).alias(c)
        for c in ("first", "last")
    )
    # Letters Windows-1252 cannot hold: fix each distinct value once, only where written cp1252.
    lost = np.zeros(n, dtype=bool)
    cp_rows = np.flatnonzero(cp1252)
    for c in ("first", "last"):
        column = frame[c]
        sub = column.gather(cp_rows)
        changed = {k: v for k in sub.unique().drop_nulls().to_list() if (v := _cp1252_safe(k)) != k}
        if not changed:
            continue
        hit = sub.is_in(list(changed)).fill_null(False).to_numpy()
        new = sub.filter(pl.Series(hit)).replace(list(changed), list(changed.values()))
        frame = frame.with_columns(column.scatter(cp_rows[hit], new).alias(c))
        lost[cp_rows[hit]] = True
    labels["charset_loss"] = lost
    return frame


def _birth_dates(
    d: _Draw, frame: pl.DataFrame
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Birth dates as written: missing, mistyped or in another format.

    Returns the frame with ``birth_date`` and the written dates, formats and missing mask
    (the harsh profile's year typos rewrite some of them)."""
    rng, cfg, n, labels = d.rng, d.cfg, d.n, d.labels
    profiles, agency = d.profiles, d.agency
    birth = d.kids.birth[d.child]
    b_missing = _mask(rng, n, cfg.birth_date_missing_rate)
    b_typo = ~b_missing & _mask(rng, n, cfg.birth_date_typo_rate)
    shift = rng.choice(np.array([-10, -1, 1, 10]), n)
    written_birth = np.where(b_typo, birth + shift.astype("timedelta64[D]"), birth)
    rows = np.flatnonzero(b_typo)
    year, month, day = _date_digits(birth[rows])
    swap_day = (day <= 12) & (day != month) & (rng.random(rows.size) < 0.3)
    written_birth[rows[swap_day]] = np.array(
        [
            np.datetime64(f"{y:04d}-{d:02d}-{m:02d}")
            for y, m, d in zip(year[swap_day], month[swap_day], day[swap_day], strict=True)
        ],
        dtype="datetime64[D]",
    )
    b_format = ~b_missing & _mask(rng, n, cfg.birth_date_format_rate)
    usual_fmt = np.array([list(_DATE_FORMATS).index(p.birth_date_format) for p in profiles])[agency]
    fmt = np.where(b_format, (usual_fmt + rng.integers(1, 4, n)) % 4, usual_fmt)
    labels["birth_date_missing"] = b_missing
    labels["birth_date_typo"] = b_typo
    labels["birth_date_format"] = b_format
    frame = frame.with_columns(birth_date=_format_dates(written_birth, fmt, b_missing))
    return frame, written_birth, fmt, b_missing


def _signals(d: _Draw) -> tuple[pl.Series, pl.Series]:
    """Each record's signal (from its agency's vocabulary) and signal date."""
    rng, cfg, n = d.rng, d.cfg, d.n
    profiles, agency = d.profiles, d.agency
    vocabulary: list[str] = []
    code = np.zeros(n, dtype=np.int64)
    for a, profile in enumerate(profiles):
        rows = np.flatnonzero(agency == a)
        words = list(profile.vocabulary)
        w = np.array([profile.vocabulary[v] for v in words])
        code[rows] = len(vocabulary) + rng.choice(len(words), rows.size, p=w / w.sum())
        vocabulary += words
    signal = pl.Series(code).replace_strict(
        list(range(len(vocabulary))), vocabulary, return_dtype=pl.String
    )
    start = np.datetime64(cfg.signal_from, "D")
    span = int((np.datetime64(cfg.signal_to, "D") - start).astype(np.int64)) + 1
    signal_date = start + rng.integers(0, span, n).astype("timedelta64[D]")
    return signal, pl.Series(signal_date)


def _records(
    rng: np.random.Generator,
    cfg: SynthConfig,
    pools: _Pools,
    kids: _Children,
    child: np.ndarray,
    agency: np.ndarray,
) -> pl.DataFrame:
    """One row per record with the written values and its list of error labels.

    The stages run in a fixed order on one random stream, so a seed gives the same records.
    """
    d = _Draw(rng, cfg, pools, kids, child, agency, labels={})
    frame = _identity_numbers(d)
    first = _given_names(d)
    last = _surnames(d)
    first, last = _misspell(d, first, last)
    frame = _as_written(d, frame, first, last)
    frame, written_birth, fmt, b_missing = _birth_dates(d, frame)
    signal, signal_date = _signals(d)
    if any(getattr(cfg, rate) > 0 for rate in _HARSH_RATES):
        frame = _harsh_errors(rng, cfg, pools, frame, d.labels, written_birth, fmt, b_missing)
    return frame.with_columns(
        signal=signal,
        signal_date=signal_date,
        child=pl.Series(child.astype(np.int64)),
        kind=pl.Series(kids.kind[child].astype(np.int8)),
        error_types=_label_lists(d.labels, d.n),
    )


_HARSH_RATES = (
    "birth_year_typo_rate",
    "names_swapped_rate",
    "given_name_added_rate",
    "transliteration_rate",
    "name_only_rate",
)
# casefolded spelling -> the other spellings of its group (synth_names.TRANSLITERATIONS)
_VARIANTS = {g[0].casefold(): g[1:] for g in names.TRANSLITERATIONS}


def _transliterate(value: str | None, u: float) -> str | None:
    """Each word with a spelling group written in another spelling of it (``u`` picks which)."""
    if value is None:
        return None
    words = value.split(" ")
    for i, word in enumerate(words):
        others = _VARIANTS.get(word.casefold())
        if others:
            new = others[min(int(u * len(others)), len(others) - 1)]
            words[i] = new.upper() if word.isupper() and len(word) > 1 else new
    return " ".join(words)


def _harsh_errors(
    rng: np.random.Generator,
    cfg: SynthConfig,
    pools: _Pools,
    frame: pl.DataFrame,
    labels: dict[str, np.ndarray],
    written_birth: np.ndarray,
    fmt: np.ndarray,
    b_missing: np.ndarray,
) -> pl.DataFrame:
    """The harsh profile's error families, drawn after every other error.

    Called only when one of their rates is positive, so the default profile's random stream and
    output do not change. Adds a label per family to ``labels``.
    """
    n = frame.height
    upper = frame["upper"].to_numpy()

    # birth year: one digit of the year differs (a day-level typo is birth_date_typo)
    year_typo = ~b_missing & ~labels["birth_date_typo"] & _mask(rng, n, cfg.birth_year_typo_rate)
    rows = np.flatnonzero(year_typo)
    shift = rng.choice(np.array([-10, -1, 1, 10]), rows.size)
    year, month, day = _date_digits(written_birth[rows])
    day = np.where((month == 2) & (day == 29), 28, day)  # 29 Feb of a year that has none
    new_birth = np.array(
        [
            f"{y + s:04d}-{m:02d}-{d:02d}"
            for y, s, m, d in zip(year, shift, month, day, strict=True)
        ],
        dtype="datetime64[D]",
    )
    written = _format_dates(new_birth, fmt[rows], np.zeros(rows.size, dtype=bool))
    frame = frame.with_columns(frame["birth_date"].scatter(rows, written))
    labels["birth_year_typo"] = year_typo

    # given name and surname in each other's column
    swapped = _mask(rng, n, cfg.names_swapped_rate)
    rows = np.flatnonzero(swapped)
    first, last = frame["first"], frame["last"]
    first, last = first.scatter(rows, last.gather(rows)), last.scatter(rows, first.gather(rows))
    labels["names_swapped"] = swapped

    # a given name the child does not have, after the others
    added = ~swapped & _mask(rng, n, cfg.given_name_added_rate) & first.is_not_null().to_numpy()
    rows = np.flatnonzero(added)
    extra = pools.given.gather(rng.integers(0, pools.given.len(), rows.size))
    extra = pl.select(
        pl.when(pl.Series(upper[rows])).then(extra.str.to_uppercase()).otherwise(extra)
    ).to_series()
    joined = pl.select(pl.concat_str([first.gather(rows), extra], separator=" ")).to_series()
    first = first.scatter(rows, joined)
    labels["given_name_added"] = added

    # transliteration: another spelling of a name that has several
    variant = _mask(rng, n, cfg.transliteration_rate)
    u = rng.random(n)
    hit = np.zeros(n, dtype=bool)
    for column in ("first", "last"):
        series = first if column == "first" else last
        rows = np.flatnonzero(variant)
        old = series.gather(rows).to_list()
        new = [_transliterate(v, float(x)) for v, x in zip(old, u[rows], strict=True)]
        changed = np.array([a != b for a, b in zip(old, new, strict=True)], dtype=bool)
        series = series.scatter(rows[changed], [v for v, c in zip(new, changed, strict=True) if c])
        hit[rows[changed]] = True
        if column == "first":
            first = series
        else:
            last = series
    labels["transliteration"] = hit

    # a name only: neither an identity number nor a birth date
    name_only = _mask(rng, n, cfg.name_only_rate)
    rows = np.flatnonzero(name_only)
    frame = frame.with_columns(
        first=first,
        last=last,
        personnummer=frame["personnummer"].scatter(rows, None),
        birth_date=frame["birth_date"].scatter(rows, None),
    )
    labels["name_only"] = name_only
    return frame
