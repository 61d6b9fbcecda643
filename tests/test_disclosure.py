"""Disclosure: each agency's view holds only its own refs; the case list holds none."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from matcher.disclosure import DisclosurePolicy, build_views
from tests.strategies import linkage_case_rows

LABELS = ["bup", "fritid", "polis", "skola", "socialtjanst"]


@given(linkage_case_rows(), st.sampled_from(list(DisclosurePolicy)))
def test_views_are_isolated_and_complete(cases: pl.DataFrame, policy: DisclosurePolicy) -> None:
    views, case_list = build_views(cases, LABELS, policy)
    assert case_list.columns == ["case_id", "agencies"]
    assert case_list.height == cases["case_id"].n_unique()
    new_ids: dict[int, str] = {}
    for label, view in views.items():
        own = cases.filter(pl.col("agency") == label)
        view_refs = [r["ref"] for records in view["records"].to_list() for r in records]
        # Exactly this agency's refs, each once; no other agency's ref anywhere in its view.
        assert sorted(view_refs) == sorted(own["ref"].to_list())
        others_refs = set(cases.filter(pl.col("agency") != label)["ref"].to_list())
        assert not others_refs & set(str(view.to_dicts()).split("'"))
        for row in view.iter_rows(named=True):
            refs = {r["ref"] for r in row["records"]}
            original = set(own.filter(pl.col("ref").is_in(list(refs)))["case_id"].to_list())
            assert len(original) == 1
            (case,) = original
            assert new_ids.setdefault(case, row["case_id"]) == row["case_id"]
            in_case = cases.filter(pl.col("case_id") == case)
            expected = sorted(set(in_case["agency"].to_list()) - {label})
            assert [o["agency"] for o in row["others"]] == expected
            for other in row["others"]:
                if policy is DisclosurePolicy.AGENCIES_ONLY:
                    assert other["signals"] is None
                else:
                    signals = in_case.filter(pl.col("agency") == other["agency"])["signal"]
                    assert other["signals"] == sorted(set(signals.drop_nulls().to_list()))
    listed = dict(case_list.iter_rows())
    for case, new in new_ids.items():
        agencies = sorted(set(cases.filter(pl.col("case_id") == case)["agency"].to_list()))
        assert listed[new] == agencies


def test_policy_names_are_the_stored_strings() -> None:
    assert [p.value for p in DisclosurePolicy] == ["agencies_only", "agencies_and_categories"]
    assert DisclosurePolicy("agencies_only") is DisclosurePolicy.AGENCIES_ONLY
