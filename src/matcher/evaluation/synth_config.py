"""Settings of the synthetic generator: named rate profiles, every knob with its source, and
the containers for what it generates and writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from matcher.errors import ConfigError
from matcher.evaluation.synth_profiles import AGENCY_PROFILES, AgencyProfile

# Named sets of rates. "harsh" puts the error families of issue 9 at the rates real agency lists
# showed there (records without a valid identity number, missing birth dates, transliterated
# and swapped names were each a visible share of the misses on unseen lists), each a few times
# the default profile's. Where no published rate exists for Swedish agency registers the value
# is an assumption at the harsh end of what the sources suggest; each line says which.
SYNTH_PROFILES: dict[str, dict[str, object]] = {
    "default": {},
    "harsh": {
        # domain.md §1.4, §1.8: newly arrived children have a samordningsnummer or no national
        # number, and they are over-represented on signal lists (issue 9: "a large share of the
        # children discussed" in some municipalities). Assumption: 6 % and 2 %.
        "samordningsnummer_share": 0.06,
        "no_number_share": 0.02,
        # domain.md §1.5: a samordningsnummer is replaced by a personnummer once the child is
        # folkbokförd; over a round's months half of those children show both (assumption).
        "number_change_share": 0.5,
        # issue 9: identity number missing and invalid numbers were the largest groups of
        # misses. Assumption: 8 % empty although known, 2 % one-digit and 1 % swap typos
        # (twice the default's keying-error rates).
        "id_missing_rate": 0.08,
        "id_typo_rate": 0.02,
        "id_transposition_rate": 0.01,
        # issue 9: birth date missing in police and school extracts; assumption 10 %, a date
        # typo (day, day/month swap) 1 % and a year-digit typo 0.5 %.
        "birth_date_missing_rate": 0.10,
        "birth_date_typo_rate": 0.01,
        "birth_year_typo_rate": 0.005,
        # Name typos: FEBRL/GeCo-style corruption puts a one-letter error in several per cent
        # of duplicate records (Christen & Pudjijono 2009); assumption 5 % of records.
        "name_typo_rate": 0.05,
        # domain.md §2.1-2.2: the calling name need not be the first given name and systems
        # write all given names, the first or the calling name; assumption 15 % of records
        # not in the agency's usual style, 2 % with a given name added.
        "given_name_variant_rate": 0.15,
        "given_name_added_rate": 0.02,
        # domain.md §2.2: given name and surname in each other's field is a classic data-entry
        # error (FEBRL's generator swaps fields too); assumption 2 %.
        "names_swapped_rate": 0.02,
        # domain.md §2.2 (Mohammed/Muhammad/Mohamad): transliterated names have no single
        # spelling, so two agencies disagree often; assumption 30 % of such records.
        "transliteration_rate": 0.3,
        # domain.md §2.2: double surnames given in part; assumption 35 % of double surnames.
        "surname_dropped_rate": 0.35,
        # domain.md §2.2: keyboards and systems without å ä ö; assumption 10 %.
        "ascii_fold_rate": 0.10,
        # issue 9: a police extract has no birth-date column, and some rows then carry a
        # name only; assumption 2 % of records.
        "name_only_rate": 0.02,
    },
}


class SynthConfig(BaseModel):
    """Every knob of the generator. Defaults carry their source or the reason for the value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    children: int = Field(1000, ge=1, le=20_000_000, description="distinct children on any list")
    agencies: tuple[str, ...] = ("skola", "socialtjanst", "polis", "fritid")
    seed: int = 0
    reference_date: date = Field(date(2026, 10, 1), description="round date; ages count from it")
    signal_from: date = date(2026, 4, 1)
    signal_to: date = date(2026, 9, 30)
    age_min: int = Field(6, ge=0, le=17, description="SSPF concerns children from school start")
    age_max: int = Field(17, ge=0, le=17, description="children are under 18")
    profiles: dict[str, AgencyProfile] = Field(default_factory=lambda: dict(AGENCY_PROFILES))

    # Population.
    foreign_background_share: float = Field(
        0.23, ge=0, le=1, description="SCB 2017-06-29: 23 % of children 0-17 (2016)"
    )
    samordningsnummer_share: float = Field(
        0.015,
        ge=0,
        le=1,
        description="assumption: children not folkbokförda (asylum seekers, newly arrived) are "
        "a few per cent of children and over-represented on signal lists",
    )
    no_number_share: float = Field(
        0.01, ge=0, le=1, description="assumption: as above, children with no national number"
    )
    default_birth_date_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="share of children without a personnummer recorded born 1 Jan or 1 Jul "
        "(domain research §1.6: some countries record these dates by default)",
    )
    double_surname_share: float = Field(
        0.08, ge=0, le=1, description="assumption: double surnames allowed since 2017 (2016:1013)"
    )
    hyphen_share: float = Field(
        0.5, ge=0, le=1, description="double surnames are written with or without a hyphen"
    )
    given_name_counts: tuple[float, float, float] = Field(
        (0.25, 0.55, 0.20),
        description="share with 1, 2, 3 given names (assumption: most Swedish children get two)",
    )
    foreign_given_name_counts: tuple[float, float, float] = (0.65, 0.30, 0.05)
    calling_not_first_share: float = Field(
        0.15,
        ge=0,
        le=1,
        description="assumption: calling name is not the first given name (Isof; Skatteverket "
        "RV 330273 allow any given name as tilltalsnamn)",
    )
    agencies_per_child: tuple[float, ...] = Field(
        (0.78, 0.14, 0.05, 0.02, 0.007, 0.003),
        description="share of listed children on 1, 2, ... agencies' lists (assumption: a small "
        "group known to several agencies is what SSPF looks for)",
    )

    # Identity number errors (per record).
    id_format_rate: float = Field(
        0.05,
        ge=0,
        le=1,
        description="assumption: records whose number is written in another form than the "
        "system's usual one (typed in by hand, pasted from another system)",
    )
    id_missing_rate: float = Field(
        0.03, ge=0, le=1, description="assumption: number left empty although known"
    )
    id_typo_rate: float = Field(
        0.01, ge=0, le=1, description="assumption: ~1 % single-digit keying errors"
    )
    id_transposition_rate: float = Field(
        0.005, ge=0, le=1, description="assumption: adjacent swaps rarer than substitutions"
    )
    id_plus_rate: float = Field(
        0.002, ge=0, le=1, description="'+' instead of '-': rare slip, must be flagged"
    )
    id_leading_zero_rate: float = Field(
        0.02,
        ge=0,
        le=1,
        description="of numbers starting with 0 (born 2000-2009): a spreadsheet read "
        "the column as numbers (domain research §1.10 item 7)",
    )
    number_change_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of samordningsnummer children since given a personnummer, shown "
        "by half their records (domain research §1.5). Off by default: the linkage core by "
        "design never joins two different valid numbers, so each such pair is missed; set it "
        "to measure that cost",
    )
    local_number_rate: float = Field(
        0.5,
        ge=0,
        le=1,
        description="records of children without a national number that carry "
        "a local TF or reserve number (domain research §1.8)",
    )

    # Name errors (per record).
    given_name_variant_rate: float = Field(
        0.05,
        ge=0,
        le=1,
        description="records not in the agency's usual given-name style (all given "
        "names or the calling name; domain research §2.1)",
    )
    surname_dropped_rate: float = Field(
        0.25, ge=0, le=1, description="of double surnames: systems and people use one part"
    )
    surname_separator_rate: float = Field(
        0.2,
        ge=0,
        le=1,
        description="of double surnames: with or without a hyphen is the bearer's choice "
        "(Skatteverket RV 362036), so systems disagree often",
    )
    surname_order_rate: float = Field(
        0.05, ge=0, le=1, description="of double surnames: order may change (2016:1013)"
    )
    name_typo_rate: float = Field(
        0.02, ge=0, le=1, description="assumption: ~2 % of records with a one-letter typo"
    )
    ascii_fold_rate: float = Field(
        0.05, ge=0, le=1, description="of names with å ä ö é: keyboard or system without them"
    )
    icao_rate: float = Field(
        0.01, ge=0, le=1, description="of names with å ä ö: passport (ICAO 9303) spelling"
    )
    whitespace_rate: float = Field(
        0.01, ge=0, le=1, description="assumption: stray spaces from copy and paste"
    )

    # Birth date errors (per record).
    birth_date_missing_rate: float = Field(
        0.05,
        ge=0,
        le=1,
        description="assumption: systems where the personnummer holds the birth date often "
        "leave the birth-date column empty",
    )
    birth_date_typo_rate: float = Field(
        0.005, ge=0, le=1, description="assumption: half the identity-number digit typo rate"
    )
    birth_date_format_rate: float = Field(
        0.02, ge=0, le=1, description="dates pasted in from other systems in another format"
    )

    # Harsh-profile error families (per record). Zero by default, so the default profile draws
    # no random numbers for them and its seeded output stays byte-identical.
    birth_year_typo_rate: float = Field(
        0.0, ge=0, le=1, description="one digit of the birth year mistyped (± 1 or ± 10 years)"
    )
    names_swapped_rate: float = Field(
        0.0, ge=0, le=1, description="given name and surname written in each other's column"
    )
    given_name_added_rate: float = Field(
        0.0, ge=0, le=1, description="a given name the child does not have added to the others"
    )
    transliteration_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="of records with a name in synth_names.TRANSLITERATIONS: written in "
        "another spelling of its group",
    )
    name_only_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="records with a name but neither an identity number nor a birth date "
        "(an extract without those columns)",
    )
    profile: Literal["default", "harsh"] = Field(
        "default",
        description="named set of rates (SYNTH_PROFILES); settings given explicitly win",
    )

    # Output.
    xlsx_max_rows: int = Field(
        200_000,
        ge=0,
        description="larger Excel exports are written as CSV instead (Excel's sheet limit is "
        "1,048,576 rows and xlsxwriter writes cell by cell)",
    )

    @model_validator(mode="before")
    @classmethod
    def _apply_profile(cls, data: object) -> object:
        """Fill in the named profile's rates where the caller did not set them."""
        if isinstance(data, dict) and data.get("profile") in SYNTH_PROFILES:
            return {**SYNTH_PROFILES[data["profile"]], **data}
        return data

    @model_validator(mode="after")
    def _check(self) -> SynthConfig:
        if not self.agencies:
            raise ValueError("at least one agency is needed")
        unknown = [a for a in self.agencies if a not in self.profiles]
        if unknown:
            raise ValueError(f"unknown agencies {unknown}; known: {sorted(self.profiles)}")
        if len(set(self.agencies)) != len(self.agencies):
            raise ValueError("agencies must be distinct")
        if self.age_min > self.age_max:
            raise ValueError("age_min must not exceed age_max")
        if self.signal_from > self.signal_to:
            raise ValueError("signal_from must not be after signal_to")
        if self.samordningsnummer_share + self.no_number_share > 1:
            raise ValueError("samordningsnummer_share + no_number_share must not exceed 1")
        for name in ("given_name_counts", "foreign_given_name_counts", "agencies_per_child"):
            values = getattr(self, name)
            if min(values) < 0 or sum(values) <= 0:
                raise ValueError(f"{name} must be non-negative with a positive sum")
        return self


@dataclass(frozen=True)
class SynthData:
    """Generated exports (one frame of strings per agency, columns = its headers) and the truth."""

    config: SynthConfig
    exports: dict[str, pl.DataFrame]
    truth: pl.DataFrame


@dataclass(frozen=True)
class SynthOutput:
    """What :func:`write_exports` wrote: export paths per agency, truth and manifest paths."""

    files: dict[str, Path]
    truth: Path
    manifest: Path
    rows: dict[str, int]
    notes: list[str] = field(default_factory=list)


def config_from_options(options: Mapping[str, object]) -> SynthConfig:
    """Build a config from loose options (CLI flags), turning validation errors into ConfigError."""
    from pydantic import ValidationError

    try:
        return SynthConfig.model_validate({k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "config" for e in exc.errors()})
        reasons = "; ".join(e["msg"] for e in exc.errors())
        raise ConfigError(f"invalid synth settings {fields}: {reasons}", reason="synth") from None
