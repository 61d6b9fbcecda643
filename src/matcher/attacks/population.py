"""Plain-text people for the attacks: the victims' records with their truth, and public knowledge.

Both sides come from the project's own synthetic generator (``matcher.evaluation.synth_people``,
``synth_names``), which follows the rank order of Statistics Sweden's name statistics; the
attacker's "public Swedish name and birth-date statistics" are a second, independent draw from the
same generator (a different seed), so the attacker knows the distributions but not the people.
The generator's people stage is used directly (``_children``, ``_Pools``: names, birth dates and
numbers before any agency's data-entry errors), since the attacks need the people, not exports.
One record per child (no repeated signals), every child on the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from matcher.evaluation.synth_config import SynthConfig
from matcher.evaluation.synth_people import _children, _Pools
from matcher.steward.hashing import RECORD_SCHEMA
from matcher.steward.names import fold_names, name_parts

__all__ = ["Population", "draw_population"]

_KINDS = {0: "personnummer", 1: "samordningsnummer"}
#: The signal every synthetic record carries (its category and date play no part in the attacks).
SIGNAL_DATE = date(2026, 6, 1)


@dataclass(frozen=True)
class Population:
    """Normalised records (``RECORD_SCHEMA``, the input of ``hash_records``) and their truth.

    ``name`` is what "re-identified by name" means here: the folded first given name and whole
    surname ("alice andersson"); ``pnr`` is the 12-digit identity number (None without one).
    ``first`` and ``surname`` are the folded fields on their own (field-level encodings).
    """

    records: pl.DataFrame
    pnr: np.ndarray
    name: np.ndarray
    first: np.ndarray
    surname: np.ndarray
    birth: np.ndarray

    @property
    def size(self) -> int:
        """Number of records."""
        return self.records.height

    def truth(self, kind: str) -> np.ndarray:
        """The true value per record of a truth kind (``pnr``, ``name``, ``first``, ``surname``)."""
        values: dict[str, np.ndarray] = {
            "pnr": self.pnr,
            "name": self.name,
            "first": self.first,
            "surname": self.surname,
        }
        return values[kind]

    def take(self, rows: np.ndarray) -> Population:
        """The population restricted to ``rows`` (in that order), renumbered."""
        records = self.records[rows].with_columns(
            row=pl.int_range(0, len(rows), dtype=pl.Int64),
            record_id=pl.format("R{}", pl.int_range(0, len(rows))),
        )
        return Population(
            records=records,
            pnr=self.pnr[rows],
            name=self.name[rows],
            first=self.first[rows],
            surname=self.surname[rows],
            birth=self.birth[rows],
        )


def _digits(digits: np.ndarray) -> pl.Series:
    """``uint8[n, 12]`` digit rows as 12-character strings."""
    text = (digits.astype(np.uint8) + ord("0")).view("S12").ravel()
    return pl.Series(text.astype(str))


def draw_population(n: int, seed: int, *, age_min: int = 6, age_max: int = 17) -> Population:
    """``n`` synthetic children (ages ``age_min``-``age_max``) as normalised records with truth."""
    config = SynthConfig(children=n, seed=seed, age_min=age_min, age_max=age_max)
    rng = np.random.default_rng(seed)
    pools = _Pools()
    kids = _children(rng, config, pools)
    given_cols = [
        pl.Series(np.where(kids.given[:, j] >= 0, kids.given[:, j], 0))
        for j in range(kids.given.shape[1])
    ]
    given_text = [pools.given.gather(c) for c in given_cols]
    has = [kids.given[:, j] >= 0 for j in range(kids.given.shape[1])]
    written_given = pl.select(
        pl.concat_str(
            [pl.when(pl.Series(h)).then(t) for h, t in zip(has, given_text, strict=True)],
            separator=" ",
            ignore_nulls=True,
        )
    ).to_series()
    first_sur = pools.surname.gather(kids.surname[:, 0])
    second = pools.surname.gather(np.where(kids.surname[:, 1] >= 0, kids.surname[:, 1], 0))
    double = pl.Series(kids.surname[:, 1] >= 0)
    written_surname = pl.select(
        pl.when(double).then(pl.concat_str([first_sur, second], separator=" ")).otherwise(first_sur)
    ).to_series()
    given_lists = name_parts(written_given, surname=False)
    surname_lists = name_parts(written_surname, surname=True)
    numbered = kids.kind < 2
    pnr = _digits(kids.digits)
    pnr = pl.select(pl.when(pl.Series(numbered)).then(pnr)).to_series()
    kinds = pl.Series([_KINDS.get(int(k)) for k in kids.kind], dtype=pl.Utf8)
    records = pl.DataFrame(
        {
            "row": np.arange(n, dtype=np.int64),
            "record_id": [f"R{i}" for i in range(n)],
            "pnr": pnr,
            "pnr_kind": kinds,
            "given_names": given_lists,
            "surnames": surname_lists,
            "birth_date": pl.Series(kids.birth.astype("datetime64[D]")).cast(pl.Date),
            "signal": pl.Series(["skola"] * n),
            "signal_date": pl.Series([SIGNAL_DATE] * n),
        }
    ).cast(RECORD_SCHEMA)  # type: ignore[arg-type]
    first = fold_names(records["given_names"].list.first().fill_null("")).fill_null("")
    surname = fold_names(records["surnames"].list.join(" ")).fill_null("")
    name = pl.select(pl.concat_str([first, surname], separator=" ")).to_series()
    return Population(
        records=records,
        pnr=pnr.to_numpy(),
        name=name.to_numpy().astype(object),
        first=first.to_numpy().astype(object),
        surname=surname.to_numpy().astype(object),
        birth=kids.birth.astype("datetime64[D]"),
    )
