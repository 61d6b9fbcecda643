"""Realistic synthetic Swedish agency exports with a ground truth, for the demo and evaluation.

A seeded generator draws a population of children (valid personnummer, some samordningsnummer,
some newly arrived children without a number and with default birth dates), puts them on the
lists of several agencies at configurable rates, adds the data-entry errors real exports have,
and writes one export per agency the way agency systems write them (Windows-1252 or UTF-8 CSV,
Excel with a title row) plus a truth file (Parquet: agency, record_id, child_id, error_types).
Work is vectorised with NumPy and polars; only the few records that get a name typo pass
through per-row Python, so millions of rows take seconds.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from matcher._files import write_atomic
from matcher.errors import ConfigError, OutputExistsError
from matcher.evaluation import synth_names as names
from matcher.steward.identifiers import luhn_check_digits

__all__ = [
    "AGENCY_PROFILES",
    "ERROR_TYPES",
    "SYNTH_PROFILES",
    "AgencyProfile",
    "SynthConfig",
    "SynthData",
    "SynthOutput",
    "config_from_options",
    "generate",
    "synthesize",
    "write_exports",
]

IdForm = Literal[
    "YYYYMMDDNNNC", "YYYYMMDD-NNNC", "YYMMDD-NNNC", "YYMMDDNNNC", "YYYYMMDD NNNC", "YYMMDD NNNC"
]
DateFormat = Literal["iso", "compact", "short", "dmy"]
STANDARD_FIELDS = (
    "record_id",
    "personnummer",
    "first_name",
    "last_name",
    "full_name",  # "Efternamn, Förnamn" in one column, as some health systems export it
    "birth_date",
    "signal",
    "signal_date",
)
_ID_FORMS: tuple[str, ...] = get_args(IdForm)
_DATE_FORMATS: dict[str, str] = {
    "iso": "%Y-%m-%d",
    "compact": "%Y%m%d",
    "short": "%y%m%d",
    "dmy": "%d/%m/%Y",
}

#: Every label the generator can put in the truth file's ``error_types`` list.
ERROR_TYPES: tuple[str, ...] = (
    "id_format",  # identity number written in another form than the agency's usual one
    "id_missing",  # the child has a number but the cell is empty
    "id_typo",  # one digit replaced (fails Luhn, by Luhn's design)
    "id_transposition",  # two adjacent digits swapped (fails Luhn unless e.g. 09<->90)
    "id_wrong_but_valid",  # after a typo or swap the number still passes Luhn
    "id_plus_separator",  # '+' (100 years or older) written for a child
    "id_leading_zero_lost",  # spreadsheet dropped the leading zero (born 2000-2009)
    "id_changed",  # a samordningsnummer child's new personnummer (the other lists: the old one)
    "local_number",  # child without a national number: a local TF or reserve number
    "calling_name_not_first",  # only the calling name, and it is not the first given name
    "given_names_partial",  # fewer given names than the child has
    "surname_dropped",  # one part of a double surname left out
    "surname_separator",  # hyphen written as space or the other way round
    "surname_order",  # the two parts of a double surname in the other order
    "name_substitution",  # one letter replaced
    "name_deletion",  # one letter left out
    "name_doubling",  # one letter doubled
    "ascii_fold",  # å ä ö é written a a o e
    "icao_spelling",  # å ä ö written aa ae oe (passport machine-readable spelling)
    "charset_loss",  # a letter outside Windows-1252 lost its accent in the export
    "whitespace",  # stray leading, trailing or doubled spaces
    "birth_date_missing",  # birth date cell empty
    "birth_date_typo",  # birth date off by a digit (a day or ten days) or day/month swapped
    "birth_date_format",  # birth date in another format than the rest of the file
    # Labels of the harsh profile's error families (never drawn at the default rates of zero).
    "birth_year_typo",  # one digit of the birth year differs (± 1 or ± 10 years)
    "names_swapped",  # given name written as surname and surname as given name
    "given_name_added",  # a given name the child does not have, added after the others
    "transliteration",  # a name written in another spelling of its group (Mohammed/Muhammad)
    "name_only",  # a name but neither an identity number nor a birth date
)


class AgencyProfile(BaseModel):
    """How one agency's system writes its export: format, headers, styles and vocabulary."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(..., description="agency label, used as file stem and in results")
    title: str = Field(..., description="title row of Excel exports")
    file_format: Literal["csv", "xlsx"] = "csv"
    encoding: Literal["cp1252", "utf-8", "utf-8-sig"] = "cp1252"
    delimiter: str = ";"
    line_terminator: str = "\r\n"
    headers: dict[str, str] = Field(..., description="standard field -> header, in file order")
    id_form: IdForm = "YYYYMMDD-NNNC"
    birth_date_format: DateFormat = "iso"
    signal_date_format: DateFormat = "iso"
    given_names: Literal["all", "calling"] = Field(
        "all", description="all given names, or only the calling name (school/leisure systems)"
    )
    upper_case: bool = False
    record_id_prefix: str = ""
    record_id_suffix: str = ""
    record_id_width: int = 6
    local_number: Literal["tf", "reserve"] = "tf"
    vocabulary: dict[str, float] = Field(..., description="signal category -> relative weight")
    list_weight: float = Field(1.0, gt=0, description="relative size of the agency's list")
    extra_signals_mean: float = Field(
        0.2, ge=0, description="mean number of further signals per listed child"
    )

    @model_validator(mode="after")
    def _check(self) -> AgencyProfile:
        unknown = set(self.headers) - set(STANDARD_FIELDS)
        if unknown or "record_id" not in self.headers:
            raise ValueError(f"headers must map standard fields incl. record_id; got {unknown}")
        if not self.vocabulary:
            raise ValueError("vocabulary must not be empty")
        split = {"first_name", "last_name"} <= set(self.headers)
        if split == ("full_name" in self.headers):
            raise ValueError("headers need first_name and last_name, or full_name (not both)")
        return self


def _profile(**kwargs: object) -> AgencyProfile:
    return AgencyProfile.model_validate(kwargs)


#: Built-in agencies. Headers, forms and styles differ on purpose, like real systems.
AGENCY_PROFILES: dict[str, AgencyProfile] = {
    p.name: p
    for p in (
        _profile(
            name="skola",
            title="Elevärenden grundskola och gymnasium",
            headers={
                "personnummer": "Personnummer",
                "first_name": "Förnamn",
                "last_name": "Efternamn",
                "birth_date": "Födelsedatum",
                "signal": "Händelse",
                "signal_date": "Datum",
                "record_id": "Ärende-ID",
            },
            id_form="YYYYMMDD-NNNC",
            given_names="calling",
            record_id_prefix="SK-",
            record_id_width=7,
            local_number="tf",
            vocabulary={
                "hög frånvaro": 6.0,
                "ogiltig frånvaro": 4.0,
                "kränkning": 2.0,
                "hot mot elev": 0.8,
                "skadegörelse": 0.6,
                "oro för elev": 1.5,
            },
            list_weight=4.0,
            extra_signals_mean=0.5,
        ),
        _profile(
            name="socialtjanst",
            title="Aktualiseringar barn och unga",
            encoding="utf-8",
            delimiter=",",
            line_terminator="\n",
            headers={
                "record_id": "Ärendenummer",
                "personnummer": "Personnr",
                "last_name": "Efternamn",
                "first_name": "Förnamn",
                "birth_date": "Födelsedatum",
                "signal": "Aktualisering",
                "signal_date": "Inkom",
            },
            id_form="YYYYMMDDNNNC",
            given_names="all",
            record_id_prefix="SN-2026-",
            record_id_width=6,
            local_number="reserve",
            vocabulary={
                "orosanmälan": 6.0,
                "ansökan om stöd": 1.5,
                "våld i nära relation": 1.0,
                "missbruk i familjen": 0.8,
                "hedersrelaterad oro": 0.3,
            },
            list_weight=2.5,
            extra_signals_mean=0.3,
        ),
        _profile(
            name="polis",
            title="Ungdomar misstänkta för brott",
            headers={
                "record_id": "Diarienummer",
                "personnummer": "Personnummer",
                "first_name": "Förnamn",
                "last_name": "Efternamn",
                "birth_date": "Födelsedatum",
                "signal": "Brottsrubricering",
                "signal_date": "Brottsdatum",
            },
            id_form="YYMMDD-NNNC",
            birth_date_format="compact",
            given_names="all",
            upper_case=True,
            record_id_prefix="5000-K",
            record_id_suffix="-26",
            record_id_width=6,
            local_number="tf",
            vocabulary={
                "ringa stöld": 3.0,
                "snatteri": 3.0,
                "ordningsstörning": 2.0,
                "skadegörelse": 2.0,
                "klotter": 1.0,
                "ringa narkotikabrott": 1.0,
                "olaga hot": 0.8,
                "misshandel": 0.8,
            },
            list_weight=1.5,
            extra_signals_mean=0.4,
        ),
        _profile(
            name="fritid",
            title="Avstängningar och incidenter fritidsgårdar 2026",
            file_format="xlsx",
            encoding="utf-8",
            headers={
                "personnummer": "Personnummer",
                "first_name": "Förnamn",
                "last_name": "Efternamn",
                "birth_date": "Födelsedatum",
                "signal": "Händelse",
                "signal_date": "Datum",
                "record_id": "Händelse-ID",
            },
            id_form="YYMMDDNNNC",
            given_names="calling",
            record_id_prefix="F",
            record_id_width=6,
            local_number="tf",
            vocabulary={
                "avstängning": 5.0,
                "bråk": 2.0,
                "hot mot personal": 1.0,
                "misstänkt droganvändning": 0.8,
                "skadegörelse": 0.7,
            },
            list_weight=1.0,
            extra_signals_mean=0.2,
        ),
        _profile(
            name="elevhalsa",
            title="Elevhälsans kontakter",
            encoding="utf-8-sig",
            headers={
                "personnummer": "Personnummer",
                "first_name": "Förnamn",
                "last_name": "Efternamn",
                "birth_date": "Födelsedatum",
                "signal": "Kontaktorsak",
                "signal_date": "Datum",
                "record_id": "Journal-ID",
            },
            id_form="YYYYMMDDNNNC",
            birth_date_format="iso",
            given_names="all",
            record_id_prefix="EH",
            record_id_width=7,
            local_number="reserve",
            vocabulary={
                "psykisk ohälsa": 3.0,
                "skolfrånvaro": 3.0,
                "oro för hemsituation": 1.5,
                "självskadebeteende": 0.6,
                "sömnproblem": 1.0,
            },
            list_weight=1.0,
            extra_signals_mean=0.2,
        ),
        _profile(
            name="bup",
            title="Remisser barn- och ungdomspsykiatri",
            headers={
                "personnummer": "Personnummer",
                "full_name": "Namn",
                "birth_date": "Födelsedatum",
                "signal": "Remissorsak",
                "signal_date": "Remissdatum",
                "record_id": "Vårdkontakt-ID",
            },
            id_form="YYYYMMDD-NNNC",
            birth_date_format="iso",
            given_names="all",
            record_id_prefix="BUP",
            record_id_width=7,
            local_number="reserve",
            vocabulary={
                "ångest": 3.0,
                "nedstämdhet": 2.5,
                "neuropsykiatrisk utredning": 2.0,
                "självskada": 0.8,
                "ätstörning": 0.6,
            },
            list_weight=0.6,
            extra_signals_mean=0.1,
        ),
    )
}


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


# ---------------------------------------------------------------------------------------------
# Identity numbers


def _date_digits(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of datetime64[D] values as int64 arrays."""
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _number_digits(
    year: np.ndarray, month: np.ndarray, day: np.ndarray, serial: np.ndarray
) -> np.ndarray:
    """The 12-digit form YYYYMMDDNNNC as an (n, 12) uint8 matrix, with its Luhn digit."""
    n = year.shape[0]
    out = np.empty((n, 12), dtype=np.uint8)
    for col, (value, width) in enumerate(((year, 4), (month, 2), (day, 2), (serial, 3))):
        start = (0, 4, 6, 8)[col]
        for i in range(width):
            out[:, start + i] = (value // 10 ** (width - 1 - i)) % 10
    out[:, 11] = luhn_check_digits(out[:, 2:11])
    return out


def _assign_serials(
    rng: np.random.Generator, day_key: np.ndarray, sex: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct birth numbers per (kind, date, sex): odd third digit for boys, even for girls.

    Each date has 500 numbers for boys and 499 for girls (000 is not used). Children sharing a
    date get distinct slots through a random affine map of their rank. When a date runs out
    (default birth dates of newly arrived children), the number's day moves to another day of
    the same month, as Skatteverket may do (prop. 2008/09:111). Returns (serial, number day).
    """
    n = day_key.shape[0]
    capacity = np.where(sex == 1, 500, 499)
    num_day = day.copy()
    for _ in range(100):
        group = ((day_key + (num_day - day)) * 2 + sex).astype(np.int64)
        order = np.argsort(group * (1 << 21) + rng.integers(0, 1 << 21, n))  # random in group
        sorted_group = group[order]
        starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
        sizes = np.diff(np.r_[starts, n])
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) - np.repeat(starts, sizes)
        over = rank >= capacity
        if not over.any():
            break
        num_day[over] = 1 + rng.integers(0, 28, int(over.sum()))
    # Random affine map rank -> slot per group: stride coprime with the capacity.
    group_of = np.empty(n, dtype=np.int64)
    group_of[order] = np.repeat(np.arange(starts.size), sizes)
    strides_boys = np.array([k for k in range(1, 500) if k % 2 and k % 5], dtype=np.int64)
    stride = np.where(
        sex == 1,
        strides_boys[rng.integers(0, strides_boys.size, starts.size)][group_of],
        rng.integers(1, 499, starts.size)[group_of],
    )
    offset = rng.integers(0, 500, starts.size)[group_of]
    slot = np.where(sex == 1, (rank * stride + offset) % 500, 1 + (rank * stride + offset) % 499)
    serial = (slot // 5) * 10 + 2 * (slot % 5) + sex
    return serial, num_day


# ---------------------------------------------------------------------------------------------
# Population


def _zipf(n: int, exponent: float) -> np.ndarray:
    """Zipf weights for a rank-ordered name list (name frequencies are close to Zipf)."""
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def _compound_surnames(taken: set[str]) -> tuple[str, ...]:
    """Rare Swedish compound surnames (Lind+berg) not already among the common ones."""
    out = []
    for prefix in names.SURNAME_PREFIXES:
        for suffix in names.SURNAME_SUFFIXES:
            name = prefix + suffix
            if name not in taken and prefix.lower() != suffix:
                out.append(name)
    return tuple(out)


# Name frequencies. Given names: a flat Zipf (exponent 0.5) over ~100 names puts the commonest
# at about 5 % of children, near SCB's figures for the most popular names of a birth cohort
# (1-2 %) once the cohort's many rarer names are counted in. Surnames: the common list gets
# 55 % of the mass with exponent 0.6 (Andersson about 3 %; SCB: about 2.4 % of the population),
# the compound tail the rest, evenly. Immigrant families' surnames include patronymics (the
# father's given name as surname, as in Somali and Arabic naming).
_GIVEN_EXPONENT = 0.5
_SURNAME_EXPONENT = 0.6
_COMMON_SURNAME_MASS = 0.55


class _Pools:
    """Name tables as polars Series plus each sub-pool's offset and weights."""

    def __init__(self) -> None:
        self.given_parts = (
            names.SWEDISH_GIRLS,
            names.IMMIGRANT_GIRLS,
            names.SWEDISH_BOYS,
            names.IMMIGRANT_BOYS,
        )
        tail = _compound_surnames(set(names.SWEDISH_SURNAMES))
        patronymics = tuple(n for n in names.IMMIGRANT_BOYS if n not in names.IMMIGRANT_SURNAMES)
        self.surname_parts = (
            names.SWEDISH_SURNAMES + tail,
            names.IMMIGRANT_SURNAMES + patronymics,
        )
        common = len(names.SWEDISH_SURNAMES)
        swedish = np.concatenate(
            [
                _COMMON_SURNAME_MASS * _zipf(common, _SURNAME_EXPONENT),
                np.full(len(tail), (1 - _COMMON_SURNAME_MASS) / len(tail)),
            ]
        )
        self.given_weights = [_zipf(len(p), _GIVEN_EXPONENT) for p in self.given_parts]
        self.surname_weights = [
            swedish,
            _zipf(len(self.surname_parts[1]), _SURNAME_EXPONENT),
        ]
        self.given = pl.Series("given", [n for part in self.given_parts for n in part])
        self.surname = pl.Series("surname", [n for part in self.surname_parts for n in part])
        self.given_offsets = np.cumsum([0] + [len(p) for p in self.given_parts])
        self.surname_offsets = np.cumsum([0] + [len(p) for p in self.surname_parts])

    def draw(self, rng: np.random.Generator, pool: np.ndarray, parts: str) -> np.ndarray:
        """Draw one weighted name index per row from the sub-pool given per row."""
        weights = self.given_weights if parts == "given" else self.surname_weights
        offsets = self.given_offsets if parts == "given" else self.surname_offsets
        out = np.empty(pool.shape[0], dtype=np.int64)
        for p, w in enumerate(weights):
            rows = np.flatnonzero(pool == p)
            out[rows] = offsets[p] + rng.choice(w.size, rows.size, p=w)
        return out


@dataclass
class _Children:
    """Column arrays of the generated population (one entry per child)."""

    sex: np.ndarray
    kind: np.ndarray  # 0 personnummer, 1 samordningsnummer, 2 none
    foreign: np.ndarray
    birth: np.ndarray  # datetime64[D], as recorded in birth-date columns
    digits: np.ndarray  # (n, 12) uint8; meaningless where kind == 2
    changed: np.ndarray  # bool: samordningsnummer replaced by a personnummer since
    new_digits: np.ndarray  # (n, 12) uint8: that personnummer, where changed
    given: np.ndarray  # (n, 3) name indices, -1 where absent
    n_given: np.ndarray
    calling: np.ndarray  # 0..2
    surname: np.ndarray  # (n, 2), -1 where single
    hyphen: np.ndarray  # bool: double surname written with a hyphen


def _children(rng: np.random.Generator, cfg: SynthConfig, pools: _Pools) -> _Children:
    n = cfg.children
    ref = np.datetime64(cfg.reference_date, "D")
    sex = rng.integers(0, 2, n)  # 1 = boy (odd third serial digit)
    u = rng.random(n)
    kind = np.where(
        u < cfg.samordningsnummer_share,
        1,
        np.where(u < cfg.samordningsnummer_share + cfg.no_number_share, 2, 0),
    )
    newly_arrived = kind > 0
    foreign = np.where(
        newly_arrived, rng.random(n) < 0.95, rng.random(n) < cfg.foreign_background_share
    )

    # Birth dates giving ages age_min..age_max on the reference date.
    ref_y, ref_m, ref_d = (int(x) for x in str(ref).split("-"))
    hi = np.datetime64(date(ref_y - cfg.age_min, ref_m, min(ref_d, 28)), "D")
    lo = np.datetime64(date(ref_y - cfg.age_max - 1, ref_m, min(ref_d, 28)), "D") + 1
    birth = lo + rng.integers(0, int((hi - lo).astype(np.int64)) + 1, n).astype("timedelta64[D]")
    default = newly_arrived & (rng.random(n) < cfg.default_birth_date_share)
    jan1 = birth.astype("datetime64[Y]").astype("datetime64[D]")
    jul1 = (birth.astype("datetime64[Y]").astype("datetime64[M]") + 6).astype("datetime64[D]")
    birth = np.where(default, np.where(rng.random(n) < 0.5, jan1, jul1), birth)

    year, month, day = _date_digits(birth)
    day_key = kind.astype(np.int64) * 100_000 + (birth - ref).astype(np.int64)
    # Children whose samordningsnummer was replaced by a personnummer get both; all numbers are
    # assigned together so the new ones collide with nobody's.
    changed = (kind == 1) & (rng.random(n) < cfg.number_change_share)
    moved = np.flatnonzero(changed)
    serial_all, num_day_all = _assign_serials(
        rng,
        np.concatenate([day_key, (birth[moved] - ref).astype(np.int64)]),
        np.concatenate([sex, sex[moved]]),
        np.concatenate([day, day[moved]]),
    )
    serial, num_day = serial_all[:n], num_day_all[:n]
    digits = _number_digits(year, month, num_day + np.where(kind == 1, 60, 0), serial)
    new_digits = np.zeros((n, 12), dtype=np.uint8)
    new_digits[moved] = _number_digits(year[moved], month[moved], num_day_all[n:], serial_all[n:])

    # Given names: 1-3, from the Swedish or immigrant pool of the child's sex.
    counts_sw = np.array(cfg.given_name_counts) / sum(cfg.given_name_counts)
    counts_im = np.array(cfg.foreign_given_name_counts) / sum(cfg.foreign_given_name_counts)
    n_given = np.where(
        foreign, rng.choice([1, 2, 3], n, p=counts_im), rng.choice([1, 2, 3], n, p=counts_sw)
    )
    given = np.full((n, 3), -1, dtype=np.int64)
    for i in range(3):
        from_immigrant = foreign & (rng.random(n) < 0.85)
        pool = sex * 2 + from_immigrant.astype(np.int64)
        given[:, i] = pools.draw(rng, pool, "given")
        for _ in range(8):  # no child is called "Anna Anna": redraw clashes
            clash = np.zeros(n, dtype=bool)
            for j in range(i):
                clash |= given[:, i] == given[:, j]
            if not clash.any():
                break
            given[clash, i] = pools.draw(rng, pool[clash], "given")
        given[n_given <= i, i] = -1
    calling = np.zeros(n, dtype=np.int64)
    several = n_given > 1
    not_first = several & (rng.random(n) < cfg.calling_not_first_share)
    calling[not_first] = 1 + (rng.random(int(not_first.sum())) < 0.2) * (n_given[not_first] > 2)

    surname = np.full((n, 2), -1, dtype=np.int64)
    sur_pool = np.where(foreign, rng.random(n) < 0.9, rng.random(n) < 0.03).astype(np.int64)
    surname[:, 0] = pools.draw(rng, sur_pool, "surname")
    first_has_space = pools.surname.gather(surname[:, 0]).str.contains(r"[ \-]").to_numpy()
    double = (rng.random(n) < cfg.double_surname_share) & ~first_has_space
    second_pool = np.where(rng.random(n) < 0.7, 0, 1)
    second = pools.draw(rng, second_pool, "surname")
    second_has_space = pools.surname.gather(second).str.contains(r"[ \-]").to_numpy()
    double &= (second != surname[:, 0]) & ~second_has_space
    surname[double, 1] = second[double]
    hyphen = rng.random(n) < cfg.hyphen_share
    return _Children(
        sex=sex,
        kind=kind,
        foreign=foreign,
        birth=birth,
        digits=digits,
        changed=changed,
        new_digits=new_digits,
        given=given,
        n_given=n_given,
        calling=calling,
        surname=surname,
        hyphen=hyphen,
    )


def _memberships(rng: np.random.Generator, cfg: SynthConfig) -> tuple[np.ndarray, np.ndarray]:
    """Records as (child index, agency index) arrays: agencies drawn without replacement."""
    n, a = cfg.children, len(cfg.agencies)
    p = np.array(cfg.agencies_per_child[:a], dtype=np.float64)
    p[-1] += sum(cfg.agencies_per_child[a:])
    m = rng.choice(np.arange(1, a + 1), n, p=p / p.sum())
    weights = np.array([cfg.profiles[x].list_weight for x in cfg.agencies])
    keys = np.log(weights)[None, :] - np.log(-np.log(rng.random((n, a))))  # Gumbel top-k
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    child, agency = np.nonzero(rank < m[:, None])
    means = np.array([cfg.profiles[x].extra_signals_mean for x in cfg.agencies])
    repeats = rng.geometric(1.0 / (1.0 + means[agency]))
    return np.repeat(child, repeats), np.repeat(agency, repeats)


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


def _records(
    rng: np.random.Generator,
    cfg: SynthConfig,
    pools: _Pools,
    kids: _Children,
    child: np.ndarray,
    agency: np.ndarray,
) -> pl.DataFrame:
    """One row per record with the written values and a boolean column per error label."""
    n = child.shape[0]
    profiles = [cfg.profiles[a] for a in cfg.agencies]
    labels: dict[str, np.ndarray] = {}
    kind = kids.kind[child]

    # --- identity numbers
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

    # --- given names
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

    # --- surnames
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

    # --- name spelling errors: fold, ICAO, typos, whitespace
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

    # --- birth dates
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

    # --- signals
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

    if any(getattr(cfg, rate) > 0 for rate in _HARSH_RATES):
        frame = _harsh_errors(rng, cfg, pools, frame, labels, written_birth, fmt, b_missing)
    error_types = _label_lists(labels, n)
    return frame.with_columns(
        signal=signal,
        signal_date=pl.Series(signal_date),
        child=pl.Series(child.astype(np.int64)),
        kind=pl.Series(kind.astype(np.int8)),
        error_types=error_types,
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


def generate(config: SynthConfig) -> SynthData:
    """Generate the population, its records, every agency's export frame and the truth."""
    rng = np.random.default_rng(config.seed)
    pools = _Pools()
    kids = _children(rng, config, pools)
    child, agency = _memberships(rng, config)
    records = _records(rng, config, pools, kids, child, agency)
    # One gather puts each agency's records together, in random order within the agency.
    order = np.argsort(agency.astype(np.int64) * (1 << 32) + rng.integers(0, 1 << 32, agency.size))
    records = records[order]
    counts = np.bincount(agency, minlength=len(config.agencies))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    exports: dict[str, pl.DataFrame] = {}
    truths: list[pl.DataFrame] = []
    for a, name in enumerate(config.agencies):
        profile = config.profiles[name]
        part = records.slice(int(offsets[a]), int(counts[a]))
        count = part.height
        width = max(profile.record_id_width, len(str(count * 10)))
        start = int(rng.integers(1, 10**width - count))
        numbers = start + rng.permutation(count)
        record_id = pl.concat_str(
            [
                pl.lit(profile.record_id_prefix),
                pl.Series(numbers).cast(pl.String).str.zfill(width),
                pl.lit(profile.record_id_suffix),
            ]
        )
        part = part.with_columns(record_id=record_id)
        fmt = _DATE_FORMATS[profile.signal_date_format]
        values = {
            "record_id": pl.col("record_id"),
            "personnummer": pl.col("personnummer"),
            "first_name": pl.col("first"),
            "last_name": pl.col("last"),
            "full_name": pl.concat_str([pl.col("last"), pl.lit(", "), pl.col("first")]),
            "birth_date": pl.col("birth_date"),
            "signal": pl.col("signal"),
            "signal_date": pl.col("signal_date").dt.strftime(fmt),
        }
        exports[name] = part.select(
            values[std].alias(header) for std, header in profile.headers.items()
        )
        truths.append(
            part.select(
                pl.lit(name).alias("agency"),
                pl.col("record_id"),
                pl.col("child").alias("child_id"),
                pl.col("kind")
                .replace_strict({0: "personnummer", 1: "samordningsnummer", 2: "none"})
                .alias("id_kind"),
                pl.col("error_types"),
                pl.col("signal"),
                pl.col("signal_date"),
            )
        )
    truth = pl.concat(truths)
    return SynthData(config=config, exports=exports, truth=truth)


# ---------------------------------------------------------------------------------------------
# Writing


def _check_free(paths: list[Path], overwrite: bool) -> None:
    for path in paths:
        if path.exists() and not overwrite:
            raise OutputExistsError("output file exists; pass --overwrite to replace it", file=path)


def _write_csv(frame: pl.DataFrame, profile: AgencyProfile, path: Path) -> None:
    text = frame.write_csv(separator=profile.delimiter, line_terminator=profile.line_terminator)
    encoding = "utf-8" if profile.file_format == "xlsx" else profile.encoding
    data = text.encode(encoding)
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def _write_xlsx(frame: pl.DataFrame, profile: AgencyProfile, path: Path) -> None:
    """Excel export as agency systems write it: title row, blank row, header, text identities."""
    write_atomic(path, lambda tmp: _fill_xlsx(frame, profile, tmp))


def _fill_xlsx(frame: pl.DataFrame, profile: AgencyProfile, tmp: Path) -> None:
    """Write the workbook of `_write_xlsx` to ``tmp``."""
    import xlsxwriter  # local import: only needed for Excel exports

    workbook = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_numbers": False})
    try:
        sheet = workbook.add_worksheet("Export")
        bold = workbook.add_format({"bold": True})
        date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_string(0, 0, profile.title, bold)
        for col, header in enumerate(frame.columns):
            sheet.write_string(2, col, header, bold)
        date_cols = {
            frame.columns.index(profile.headers[f])
            for f in ("birth_date", "signal_date")
            if f in profile.headers
        }
        for r, row in enumerate(frame.iter_rows(), start=3):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if col in date_cols and len(value) == 10 and value[4] == "-":
                    sheet.write_datetime(r, col, datetime.fromisoformat(value), date_fmt)
                else:
                    sheet.write_string(r, col, value)
    finally:
        workbook.close()


def _mapping_toml(profile: AgencyProfile) -> str:
    """The steward's column mapping file for this agency's export (``matcher hash --mapping``)."""
    lines = [f"# Column mapping for the {profile.name} export ({profile.title})", "[columns]"]
    lines += [f'"{header}" = "{field}"' for field, header in profile.headers.items()]
    return "\n".join(lines) + "\n"


def write_exports(data: SynthData, out_dir: Path, *, overwrite: bool = False) -> SynthOutput:
    """Write each agency's export and column mapping, the truth (Parquet) and a manifest (JSON)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = data.config
    notes: list[str] = []
    plan: dict[str, tuple[Path, AgencyProfile, bool]] = {}
    for name, frame in data.exports.items():
        profile = cfg.profiles[name]
        as_xlsx = profile.file_format == "xlsx" and frame.height <= cfg.xlsx_max_rows
        if profile.file_format == "xlsx" and not as_xlsx:
            notes.append(
                f"{name}: {frame.height} rows exceed xlsx_max_rows={cfg.xlsx_max_rows}; "
                "written as UTF-8 CSV instead of Excel"
            )
        plan[name] = (out_dir / f"{name}.{'xlsx' if as_xlsx else 'csv'}", profile, as_xlsx)
    truth_path = out_dir / "truth.parquet"
    manifest_path = out_dir / "manifest.json"
    mappings = [out_dir / f"{name}.mapping.toml" for name in plan]
    _check_free(
        [p for p, _, _ in plan.values()] + [truth_path, manifest_path, *mappings], overwrite
    )

    manifest: dict[str, object] = {
        "generator": "matcher.synth",
        "seed": cfg.seed,
        "children": cfg.children,
        "reference_date": cfg.reference_date.isoformat(),
        "signal_window": [cfg.signal_from.isoformat(), cfg.signal_to.isoformat()],
        "truth": truth_path.name,
        "agencies": {},
    }
    if cfg.profile != "default":  # the default profile's manifest stays as it was
        manifest["profile"] = cfg.profile
    agencies: dict[str, object] = {}
    for name, (path, profile, as_xlsx) in plan.items():
        frame = data.exports[name]
        if as_xlsx:
            _write_xlsx(frame, profile, path)
        else:
            _write_csv(frame, profile, path)
        mapping_path = out_dir / f"{name}.mapping.toml"
        mapping_path.write_text(_mapping_toml(profile), encoding="utf-8")
        agencies[name] = {
            "file": path.name,
            "mapping": mapping_path.name,
            "format": "xlsx" if as_xlsx else "csv",
            "encoding": None
            if as_xlsx
            else ("utf-8" if profile.file_format == "xlsx" else profile.encoding),
            "delimiter": None if as_xlsx else profile.delimiter,
            "header_row": 3 if as_xlsx else 1,
            "columns": dict(profile.headers),
            "rows": frame.height,
        }
    manifest["agencies"] = agencies
    data.truth.write_parquet(truth_path)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return SynthOutput(
        files={name: p for name, (p, _, _) in plan.items()},
        truth=truth_path,
        manifest=manifest_path,
        rows={name: f.height for name, f in data.exports.items()},
        notes=notes,
    )


def synthesize(config: SynthConfig, out_dir: Path, *, overwrite: bool = False) -> SynthOutput:
    """Generate and write in one call (what ``matcher synth`` does)."""
    return write_exports(generate(config), out_dir, overwrite=overwrite)


def config_from_options(options: Mapping[str, object]) -> SynthConfig:
    """Build a config from loose options (CLI flags), turning validation errors into ConfigError."""
    from pydantic import ValidationError

    try:
        return SynthConfig.model_validate({k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "config" for e in exc.errors()})
        reasons = "; ".join(e["msg"] for e in exc.errors())
        raise ConfigError(f"invalid synth settings {fields}: {reasons}", reason="synth") from None
