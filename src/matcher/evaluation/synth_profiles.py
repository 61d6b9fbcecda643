"""Agency profiles for the synthetic generator: how each agency system writes its export.

Headers, file format and encoding, identity-number and date styles, signal vocabulary, and the
list of error labels the truth file can carry.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
