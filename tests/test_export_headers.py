"""Headers that Swedish agency systems write map to the standard fields without a mapping file."""

from __future__ import annotations

import pytest

from matcher.evaluation.synth import AGENCY_PROFILES
from matcher.steward.exports import map_columns


@pytest.mark.parametrize("agency", sorted(AGENCY_PROFILES))
def test_agency_headers_map_without_overrides(agency: str) -> None:
    profile = AGENCY_PROFILES[agency]
    mapping = map_columns(list(profile.headers.values()))
    assert mapping.header_to_field == {header: field for field, header in profile.headers.items()}
    assert mapping.ignored == ()


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Aktualisering", "signal"),
        ("Brottsrubricering", "signal"),
        ("Inkom", "signal_date"),
        ("Brottsdatum", "signal_date"),
        ("Journal-ID", "record_id"),
        ("Händelse-ID", "record_id"),
        ("Händelse", "signal"),
    ],
)
def test_common_swedish_headers(header: str, field: str) -> None:
    assert map_columns([header, "Personnummer"]).header_to_field[header] == field
