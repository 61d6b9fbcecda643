"""Guards against the curious agency (issue 12): a per-round cap on list size, and a warning plus
an audit entry when a list is far larger than the agency's or the round's usual."""

from __future__ import annotations

from tests.api.factories import Api, hashed_bytes


def test_a_list_over_the_rounds_cap_is_refused(api: Api) -> None:
    round_id, tokens = api.create_round(max_list_rows=50)
    shown = api.client.get(f"/rounds/{round_id}", headers=api.coordinator).json()
    assert shown["max_list_rows"] == 50
    over = api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", range(1, 52)))
    assert over.status_code == 422
    assert "cap of 50 rows" in over.json()["detail"]
    within = api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", range(1, 51)))
    assert within.status_code == 200, within.text
    events = api.client.get("/audit", params={"round_id": round_id}, headers=api.coordinator)
    assert "upload.refused" in [e["action"] for e in events.json()["events"]]


def test_a_round_without_a_cap_takes_any_list(api: Api) -> None:
    round_id, tokens = api.create_round()
    assert (
        api.client.get(f"/rounds/{round_id}", headers=api.coordinator).json()["max_list_rows"]
        is None
    )
    ok = api.upload(round_id, tokens["skola"], hashed_bytes(round_id, "skola", range(1, 300)))
    assert ok.status_code == 200, ok.text


def test_a_far_larger_list_is_flagged_to_the_coordinator(api: Api) -> None:
    round_id, tokens = api.create_round()
    usual = api.upload(round_id, tokens["polis"], hashed_bytes(round_id, "polis", range(1, 101)))
    assert usual.status_code == 200 and usual.json()["warning"] is None
    roster = hashed_bytes(round_id, "skola", range(1, 1001))
    flagged = api.upload(round_id, tokens["skola"], roster)
    assert flagged.status_code == 200, flagged.text
    assert "more than 3 times the usual 100" in flagged.json()["warning"]
    events = api.client.get("/audit", params={"round_id": round_id}, headers=api.coordinator)
    large = [e for e in events.json()["events"] if e["action"] == "upload.large"]
    assert len(large) == 1
    again = api.upload(round_id, tokens["skola"], roster)  # its own previous list is the usual
    assert again.json()["warning"] is None


def test_a_round_can_require_every_signal_date_inside_its_window(api: Api) -> None:
    from datetime import date

    round_id, tokens = api.create_round(
        window_from="2026-04-01", window_to="2026-09-30", window_dates_required=True
    )
    outside = hashed_bytes(round_id, "skola", range(1, 11), signal_date=date(2026, 10, 1))
    refused = api.upload(round_id, tokens["skola"], outside)
    assert refused.status_code == 422
    assert "10 rows have no signal date or one outside" in refused.json()["detail"]
    assert "2026-10-01" not in refused.text
    missing = hashed_bytes(round_id, "skola", range(1, 11), signal_date=None)
    assert api.upload(round_id, tokens["skola"], missing).status_code == 422
    inside = hashed_bytes(round_id, "skola", range(1, 11), signal_date=date(2026, 6, 1))
    assert api.upload(round_id, tokens["skola"], inside).status_code == 200


def test_requiring_window_dates_needs_a_window(api: Api) -> None:
    body: dict[str, object] = {"name": "x", "legal_basis": "y", "agencies": ["skola", "polis"]}
    body["window_dates_required"] = True
    response = api.client.post("/rounds", json=body, headers=api.coordinator)
    assert response.status_code == 422
