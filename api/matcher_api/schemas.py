"""Request and response models of the coordinator API (``*Create`` in, ``*Public`` out).

Responses are built field by field from these models, so no column reaches a client by
accident. No model has a field for a similarity score or another agency's refs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from matcher.disclosure import DisclosurePolicy as DisclosurePolicy  # re-exported: the API's enum
from matcher.followup.model import RoundKind
from matcher.linkage.cases import CaseStrength

# stale: done, but an agency has uploaded a new file since; the results were removed.
JobStatus = Literal["queued", "running", "done", "failed", "stale"]
AgencyLabel = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9ÅÄÖåäöÉé][\w.\- ]*$"),
]
RoundId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
Count = int | str
"""An aggregate count: an integer, or ``"<N"`` when below the small-count threshold."""


class ErrorPublic(BaseModel):
    """Every refusal: a message saying what is wrong and a short machine-readable reason."""

    detail: str = Field(..., examples=["round 'r-2026-04' does not exist (or was purged)"])
    reason: str = Field(..., examples=["not_found"])


class HealthPublic(BaseModel):
    """Liveness and database reachability."""

    status: Literal["ok"] = "ok"
    database: Literal["ok"] = "ok"
    version: str = Field(..., examples=["0.1.0"])


class RoundCreate(BaseModel):
    """What the coordinator states when opening a round."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "sspf-2026-spring",
                    "name": "SSPF Södermalm, spring 2026",
                    "legal_basis": "Guardians' consent recorded in each agency's case file",
                    "k": 2,
                    "window_from": "2026-01-01",
                    "window_to": "2026-06-30",
                    "disclosure_policy": DisclosurePolicy.AGENCIES_ONLY.value,
                    "retention_days": 30,
                    "agencies": ["skola", "socialtjanst", "polis", "fritid"],
                }
            ]
        },
    )

    id: RoundId | None = Field(
        None, description="round id the stewards hash with (generated when left out)"
    )
    name: str = Field(..., min_length=1, max_length=200)
    legal_basis: str = Field(
        ..., min_length=3, max_length=2000, description="the recorded legal basis for the round"
    )
    k: int = Field(2, ge=2, le=50, description="a case needs signals from at least k agencies")
    window_from: date | None = Field(None, description="first signal date counted (inclusive)")
    window_to: date | None = Field(None, description="last signal date counted (inclusive)")
    disclosure_policy: DisclosurePolicy = Field(
        DisclosurePolicy.AGENCIES_ONLY,
        description="what an agency learns about the others in a case (default: the narrowest)",
    )
    kind: RoundKind = Field(
        RoundKind.SIGNALS,
        description="signals: cases for a meeting list; analysis: aggregated statistics only, "
        "never a case list (agencies upload signal lists and one an outcome list)",
    )
    retention_days: int | None = Field(
        None, ge=1, le=3650, description="days until the round is purged (service default if unset)"
    )
    max_list_rows: int | None = Field(
        None,
        ge=1,
        description="most rows one agency's list may hold: bounds what an agency uploading its "
        "whole roster can learn of the other lists (docs/privacy-attacks.md); none if unset",
    )
    window_dates_required: bool = Field(
        False,
        description="refuse a list with a row whose signal date is missing or outside the window "
        "(such rows never count; the steward leaves them out)",
    )
    agencies: list[AgencyLabel] = Field(..., min_length=2, max_length=50)

    @field_validator("name", "legal_basis")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
            raise ValueError("must not contain control characters")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RoundCreate:
        if len(set(self.agencies)) != len(self.agencies):
            raise ValueError("agency labels must be unique")
        if self.k > len(self.agencies):
            raise ValueError("k cannot exceed the number of participating agencies")
        if self.window_from and self.window_to and self.window_from > self.window_to:
            raise ValueError("window_from is after window_to")
        if self.window_dates_required and not (self.window_from or self.window_to):
            raise ValueError("window_dates_required needs a window_from or window_to")
        return self


class UploadPublic(BaseModel):
    """Metadata of an agency's current upload (never its content)."""

    agency: str = Field(..., examples=["skola"])
    row_count: int = Field(..., examples=[1843])
    size_bytes: int = Field(..., examples=[412_904])
    key_check: str = Field(..., examples=["3f9a1c0e5b7d2a44"])
    uploaded_at: datetime
    warning: str | None = Field(
        None, description="set when the list is far larger than the agency's or the round's usual"
    )


class JobPublic(BaseModel):
    """Status of a matching run."""

    round_id: str = Field(..., examples=["sspf-2026-spring"])
    status: JobStatus = Field(..., examples=["done"])
    requested_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = Field(None, examples=[None])
    case_count: Count | None = Field(None, examples=[37, "<5"])
    record_count: int | None = Field(None, examples=[7214])
    core_seconds: float | None = Field(None, description="time spent in the linkage core")
    stats: dict[str, Any] | None = Field(
        None,
        description="the core's counts and stage timings (no identifiers)",
        examples=[{"records": 7214, "clusters": 6890, "cases": 37}],
    )


class AgencyStatusPublic(BaseModel):
    """One participating agency as the coordinator sees it."""

    label: str = Field(..., examples=["skola"])
    upload: UploadPublic | None = None


class RoundPublic(BaseModel):
    """A round as the coordinator sees it: its terms, agencies, uploads and matching status."""

    id: str = Field(..., examples=["sspf-2026-spring"])
    name: str = Field(..., examples=["SSPF Södermalm, spring 2026"])
    legal_basis: str = Field(..., examples=["Guardians' consent"])
    k: int = Field(..., examples=[2])
    window_from: date | None = None
    window_to: date | None = None
    disclosure_policy: DisclosurePolicy
    kind: RoundKind = RoundKind.SIGNALS
    retention_days: int = Field(..., examples=[30])
    max_list_rows: int | None = Field(None, description="most rows one agency's list may hold")
    window_dates_required: bool = False
    created_at: datetime
    expires_at: datetime
    key_check: str | None = Field(
        None, description="fixed by the first upload", examples=["3f9a1c0e5b7d2a44"]
    )
    agencies: list[AgencyStatusPublic]
    job: JobPublic | None = None


class RoundsPublic(BaseModel):
    """All live rounds."""

    rounds: list[RoundPublic]


class RoundCreated(BaseModel):
    """A new round with each agency's upload token: shown this once, stored only hashed."""

    round: RoundPublic
    agency_tokens: dict[str, str] = Field(
        ...,
        description="agency label -> bearer token for uploads and results; shown only once",
        examples=[{"skola": "bX2...Q", "polis": "k9F...e"}],
    )


class TokenPublic(BaseModel):
    """A reissued agency token, shown this once."""

    agency: str = Field(..., examples=["skola"])
    token: str = Field(..., examples=["bX2...Q"])


class OwnRecordPublic(BaseModel):
    """One of the calling agency's own records in a case."""

    ref: str = Field(..., examples=["3xq7Kp2mWn"])
    signal: str | None = Field(None, examples=["hög frånvaro"])
    signal_date: date | None = None


class OtherAgencyPublic(BaseModel):
    """Another agency in a case; signal categories only when the round's policy allows."""

    agency: str = Field(..., examples=["polis"])
    signals: list[str] | None = Field(None, examples=[["ringa brott"]])


class AgencyCasePublic(BaseModel):
    """A case as one agency sees it: its own refs and who else flagged the child."""

    case_id: str = Field(..., examples=["K00017"])
    strength: CaseStrength | None = Field(
        None,
        description="how the case's records were linked: identity number, names and birth date, "
        "or probable (confirm at the meeting); a coarse level, never a score",
    )
    records: list[OwnRecordPublic]
    others: list[OtherAgencyPublic]


class AgencyResultsPublic(BaseModel):
    """The calling agency's view of a round's cases (nothing about other agencies' records)."""

    round_id: str = Field(..., examples=["sspf-2026-spring"])
    agency: str = Field(..., examples=["skola"])
    disclosure_policy: DisclosurePolicy
    cases: list[AgencyCasePublic]


class CasePublic(BaseModel):
    """A case as the coordinator sees it: no refs, no signals, no scores."""

    case_id: str = Field(..., examples=["K00017"])
    agencies: list[str] = Field(..., examples=[["polis", "skola"]])


class CombinationCount(BaseModel):
    """Cases per combination of agencies (small counts suppressed)."""

    agencies: list[str] = Field(..., examples=[["polis", "skola"]])
    cases: Count = Field(..., examples=["<5", 12])


class RoundResultsPublic(BaseModel):
    """The coordinator's result view: the case list and suppressed aggregate counts."""

    round_id: str = Field(..., examples=["sspf-2026-spring"])
    suppression_threshold: int = Field(..., examples=[5])
    case_count: Count = Field(..., examples=[37])
    cases_by_agency_count: dict[str, Count] = Field(..., examples=[{"2": 30, "3": "<5"}])
    cases_by_combination: list[CombinationCount]
    cases: list[CasePublic]


class AuditEventPublic(BaseModel):
    """One audit entry: who did what to which round, when, with counts and the round's terms."""

    at: datetime
    actor: str = Field(..., examples=["agency:skola"])
    action: str = Field(..., examples=["upload"])
    round_id: str | None = Field(None, examples=["sspf-2026-spring"])
    details: dict[str, int | str] = Field(
        default_factory=dict, examples=[{"rows": 1843}, {"policy": "agencies_only", "k": 2}]
    )


class AuditPublic(BaseModel):
    """The newest audit entries."""

    events: list[AuditEventPublic]


class PurgePublic(BaseModel):
    """What a purge deleted."""

    round_ids: list[str] = Field(..., examples=[["sspf-2025-autumn"]])
    deleted_rows: dict[str, int] = Field(..., examples=[{"uploads": 4, "agency_results": 4}])
