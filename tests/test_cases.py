"""Cases: at least k agencies inside the window; monotone in k and window; stable ids."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.errors import ConfigError
from matcher.linkage.cases import CASE_SCHEMA, find_cases, summarise_cases
from tests.strategies import LINK_AGENCIES

START = date(2024, 1, 1)


@st.composite
def clustered_records(draw: st.DrawFn) -> pl.DataFrame:
    """Records with a cluster id, agency, signal and (maybe null) signal date."""
    n = draw(st.integers(0, 30))
    refs = draw(st.lists(st.uuids(), min_size=n, max_size=n, unique=True))
    day = st.none() | st.integers(0, 60).map(lambda d: START + timedelta(days=d))
    return pl.DataFrame(
        {
            "agency": draw(st.lists(st.sampled_from(LINK_AGENCIES), min_size=n, max_size=n)),
            "ref": [r.hex for r in refs],
            "signal": draw(st.lists(st.sampled_from(["oro", "brott"]), min_size=n, max_size=n)),
            "signal_date": draw(st.lists(day, min_size=n, max_size=n)),
            "cluster_id": draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)),
        },
        schema={
            "agency": pl.Utf8,
            "ref": pl.Utf8,
            "signal": pl.Utf8,
            "signal_date": pl.Date,
            "cluster_id": pl.Int64,
        },
    )


def _windows() -> st.SearchStrategy[tuple[date | None, date | None]]:
    bound = st.none() | st.integers(0, 60).map(lambda d: START + timedelta(days=d))
    return st.tuples(bound, bound).map(
        lambda w: (min(w), max(w)) if None not in w else w  # type: ignore[type-var]
    )


def _member_sets(cases: pl.DataFrame) -> set[frozenset[tuple[str, str]]]:
    groups = cases.group_by("case_id").agg(pl.struct("agency", "ref"))
    return {frozenset((m["agency"], m["ref"]) for m in row) for row in groups["agency"]}


@given(clustered_records(), st.integers(1, 4), _windows())
def test_raising_k_never_adds_cases(records: pl.DataFrame, k: int, window: tuple) -> None:
    low = find_cases(records, k=k, window_from=window[0], window_to=window[1])
    high = find_cases(records, k=k + 1, window_from=window[0], window_to=window[1])
    assert _member_sets(high) <= _member_sets(low)


@given(clustered_records(), st.integers(1, 3), _windows(), st.integers(0, 20), st.integers(0, 20))
def test_widening_the_window_never_removes_cases(
    records: pl.DataFrame, k: int, window: tuple, earlier: int, later: int
) -> None:
    lo, hi = window
    wide_lo = None if lo is None else lo - timedelta(days=earlier)
    wide_hi = None if hi is None else hi + timedelta(days=later)
    narrow = _member_sets(find_cases(records, k=k, window_from=lo, window_to=hi))
    for wide_window in ((wide_lo, wide_hi), (None, wide_hi), (wide_lo, None), (None, None)):
        wide = _member_sets(
            find_cases(records, k=k, window_from=wide_window[0], window_to=wide_window[1])
        )
        for case in narrow:
            assert any(case <= other for other in wide)


@given(clustered_records(), st.integers(1, 3), _windows(), st.randoms(use_true_random=False))
def test_cases_are_exact_and_ids_do_not_depend_on_row_order(
    records: pl.DataFrame, k: int, window: tuple, rnd
) -> None:
    cases = find_cases(records, k=k, window_from=window[0], window_to=window[1])
    assert cases.schema == pl.Schema(CASE_SCHEMA)
    order = list(range(records.height))
    rnd.shuffle(order)
    again = find_cases(records[order], k=k, window_from=window[0], window_to=window[1])
    assert again.equals(cases)
    # every case has >= k agencies, all its rows count in the window, ids are C-nnnnn
    lo, hi = window
    for row in cases.iter_rows(named=True):
        if lo is not None or hi is not None:
            assert row["signal_date"] is not None
            assert lo is None or row["signal_date"] >= lo
            assert hi is None or row["signal_date"] <= hi
    summary = summarise_cases(cases)
    assert (summary["n_agencies"] >= k).all()
    assert summary["case_id"].str.contains(r"^C-\d{5,}$").all()
    assert summary["n_records"].sum() == cases.height if cases.height else True


def test_undated_signals_count_only_without_a_window() -> None:
    records = pl.DataFrame(
        {
            "agency": ["skola", "polis"],
            "ref": ["a", "b"],
            "signal": ["oro", "brott"],
            "signal_date": [date(2024, 3, 1), None],
            "cluster_id": [0, 0],
        }
    )
    assert find_cases(records, k=2).height == 2
    assert find_cases(records, k=2, window_to=date(2024, 12, 31)).height == 0
    summary = summarise_cases(find_cases(records, k=2))
    assert summary.row(0, named=True)["agencies"] == ["polis", "skola"]
    assert summary.row(0, named=True)["signals"] == ["brott", "oro"]


def test_bad_parameters_are_refused() -> None:
    records = pl.DataFrame(schema={**CASE_SCHEMA, "cluster_id": pl.Int64}).drop("case_id")
    with pytest.raises(ConfigError):
        find_cases(records, k=0)
    with pytest.raises(ConfigError):
        find_cases(records, k=2, window_from=date(2024, 2, 1), window_to=date(2024, 1, 1))
    assert find_cases(records, k=2).height == 0
    assert summarise_cases(find_cases(records)).height == 0
