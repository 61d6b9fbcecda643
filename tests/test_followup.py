"""Activity list model, access rules and the analysis round's aggregates."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from matcher.errors import ConfigError
from matcher.evaluation.synth_histories import histories
from matcher.followup.analysis import AnalysisInput, analyse
from matcher.followup.model import (
    DEFAULT_ACTION_TYPES,
    Action,
    ActionStatus,
    CaseFollowUp,
    check_action,
    overdue,
    update_action,
    visible_to,
)


def _case(cid: str, agencies: tuple[str, ...], actions: tuple[Action, ...]) -> CaseFollowUp:
    return CaseFollowUp(cid, "r1", date(2026, 3, 1), agencies, actions=actions)


A = Action("home_visit", "socialtjanst", date(2026, 4, 1))
B = Action("school_meeting", "skola", date(2026, 3, 15), ActionStatus.DONE, date(2026, 3, 10))
C = Action("police_concern_talk", "polis", date(2026, 3, 20))
CASES = [_case("k1", ("socialtjanst", "skola"), (A, B)), _case("k2", ("polis", "skola"), (C,))]


def test_agency_sees_only_its_own_cases_and_actions() -> None:
    soc = visible_to(CASES, "socialtjanst")
    assert [c.case_id for c in soc] == ["k1"] and soc[0].actions == (A,)
    skola = visible_to(CASES, "skola")
    assert [c.case_id for c in skola] == ["k1", "k2"]
    assert all(a.agency == "skola" for c in skola for a in c.actions)
    assert visible_to(CASES, None) == CASES


def test_agency_cannot_update_another_agencys_action() -> None:
    with pytest.raises(ConfigError):
        update_action(CASES[0], 0, "skola", ActionStatus.DONE, date(2026, 3, 5))
    done = update_action(CASES[0], 0, "socialtjanst", ActionStatus.DONE, date(2026, 3, 5))
    assert done.actions[0].done_in_time()


def test_overdue_lists_open_actions_past_due_oldest_first() -> None:
    assert [(c, i) for c, i, _ in overdue(CASES, date(2026, 4, 2))] == [("k2", 0), ("k1", 0)]
    assert overdue(CASES, date(2026, 3, 1)) == []


def test_actions_are_checked_against_the_list_and_the_case() -> None:
    check_action(A, CASES[0], DEFAULT_ACTION_TYPES)
    with pytest.raises(ConfigError):
        check_action(
            Action("free text here", "skola", date(2026, 1, 1)), CASES[0], DEFAULT_ACTION_TYPES
        )
    with pytest.raises(ConfigError):
        check_action(C, CASES[0], DEFAULT_ACTION_TYPES)


def test_analysis_returns_aggregates_only_and_counts_what_preceded_the_outcome() -> None:
    signals = pl.DataFrame(
        {
            "key": ["a"] * 3 + ["b"] * 2 + [f"x{i}" for i in range(10) for _ in range(2)],
            "agency": ["skola", "socialtjanst", "polis", "skola", "polis"]
            + ["skola", "polis"] * 10,
            "date": [
                date(2021, 1, 1),
                date(2021, 6, 1),
                date(2023, 1, 1),
                date(2022, 1, 1),
                date(2022, 5, 1),
            ]
            + [date(2022, 1, 1), date(2022, 3, 1)] * 10,
        }
    )
    outcomes = pl.DataFrame({"key": ["a", "b"], "date": [date(2022, 1, 1), date(2022, 2, 1)]})
    out = analyse(AnalysisInput(signals, outcomes), ["skola", "socialtjanst", "polis"])
    text = json.dumps(out, default=str)
    assert '"a"' not in text and "x1" not in text
    # Two children with the outcome: too few, so shown as <5; police for 'a' came after.
    assert out["outcome"]["children"] == "<5"
    assert out["comparison"]["children"] == 10
    assert out["comparison"]["signal_at"]["socialtjanst"] == 0


def test_analysis_on_synthetic_histories_has_no_key_and_hides_small_counts() -> None:
    h = histories(children=3000, seed=3)
    out = analyse(AnalysisInput(h.signals, h.outcomes), h.agencies)
    text = json.dumps(out, default=str)
    assert "c000" not in text
    for group in ("outcome", "comparison"):
        for v in [*out[group]["signal_at"].values(), *out[group]["months_histogram"].values()]:
            assert not (isinstance(v, int) and 0 < v < 5)
    assert isinstance(out["outcome"]["children"], int) and out["outcome"]["children"] > 50


def test_analysis_refuses_a_list_without_dates() -> None:
    with pytest.raises(ConfigError):
        analyse(
            AnalysisInput(
                pl.DataFrame({"key": ["a"], "agency": ["skola"]}),
                pl.DataFrame({"key": ["a"], "date": [date(2020, 1, 1)]}),
            ),
            ["skola"],
        )


def test_hashed_file_header_carries_the_list_kind_with_signals_by_default() -> None:
    from pydantic import ValidationError

    from matcher.steward.hashed_file import HashedFileHeader

    base = {"round_id": "r", "agency": "skola", "key_check": "ab", "row_count": 0}
    assert HashedFileHeader(**base).list_kind == "signals"
    assert HashedFileHeader(**base, list_kind="outcomes").list_kind == "outcomes"
    with pytest.raises(ValidationError):
        HashedFileHeader(**base, list_kind="names")


def test_analysis_from_hashed_files_matches_the_keyed_analysis() -> None:
    from matcher.followup.analysis import analyse_hashed
    from matcher.steward.hashed_file import (
        EncodingParams,
        HashedFile,
        HashedFileHeader,
    )

    h = histories(children=1500, seed=7, agencies=3)
    token = {k: i + 1 for i, k in enumerate(h.signals["key"].unique(maintain_order=True))}
    for k in h.outcomes["key"]:
        token.setdefault(k, len(token) + 1)

    def hashed(frame: pl.DataFrame, agency: str, kind: str) -> HashedFile:
        n = frame.height
        body = pl.DataFrame(
            {
                "ref": [f"r{kind[0]}{i}" for i in range(n)],
                "agency": [agency] * n,
                "signal": ["x"] * n,
                "signal_date": frame["date"],
                "id_token": [token[k] for k in frame["key"]],
                "name_tokens": [[]] * n,
                "block_tokens": [[]] * n,
                "bloom": [None] * n,
            },
            schema_overrides={
                "name_tokens": pl.List(pl.UInt64),
                "block_tokens": pl.List(pl.UInt64),
                "id_token": pl.UInt64,
                "bloom": pl.Binary,
            },
        )
        header = HashedFileHeader(
            round_id="a", agency=agency, key_check="00", row_count=n,
            token_kinds=["pnr"], encoding=EncodingParams(), list_kind=kind,
        )  # fmt: skip
        return HashedFile(header=header, frame=body)

    files = [hashed(h.signals.filter(pl.col("agency") == a), a, "signals") for a in h.agencies] + [
        hashed(h.outcomes, "placering", "outcomes")
    ]
    via_files = analyse_hashed(files)
    direct = analyse(AnalysisInput(h.signals, h.outcomes), sorted(h.agencies))
    assert via_files["outcome"]["signal_at"] == direct["outcome"]["signal_at"]
    assert via_files["outcome"]["months_histogram"] == direct["outcome"]["months_histogram"]
    assert via_files["comparison"]["children"] == direct["comparison"]["children"]
    with pytest.raises(ConfigError):
        analyse_hashed(files[:-1])
