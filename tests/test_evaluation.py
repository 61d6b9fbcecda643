"""Evaluation: fast pair counting equals brute force over all pairs; metrics behave."""

from __future__ import annotations

import itertools
import random
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.errors import InputFileError, MissingColumnError
from matcher.evaluation.evaluation import (
    align,
    best_threshold,
    case_counts,
    error_breakdown,
    evaluate,
    pair_counts,
    plot_sweep,
    read_local_maps,
    read_truth,
    resolve_refs,
    sweep,
)
from matcher.evaluation.febrl import split_febrl
from tests.strategies import EVAL_LABELS, clusterings


def _records(predicted: pl.DataFrame, truth: pl.DataFrame) -> list[dict[str, object]]:
    """Truth records with their predicted cluster (a unique singleton id where unpredicted)."""
    clusters = {(a, r): c for a, r, c in predicted.iter_rows()}
    out = []
    for row in truth.iter_rows(named=True):
        key = (row["agency"], row["record_id"])
        out.append({**row, "cluster": clusters.get(key, ("single", key))})
    return out


def _brute_pairs(records: list[dict[str, object]], involving: str | None = None) -> tuple[int, ...]:
    """(true, predicted, correct) cross-agency pairs by listing every pair."""
    true = predicted = correct = 0
    for a, b in itertools.combinations(records, 2):
        if a["agency"] == b["agency"]:
            continue
        if involving is not None and not (
            involving in a["error_types"] or involving in b["error_types"]  # type: ignore[operator]
        ):
            continue
        same_child = a["child_id"] == b["child_id"]
        same_cluster = a["cluster"] == b["cluster"]
        true += same_child
        predicted += same_cluster
        correct += same_child and same_cluster
    return true, predicted, correct


@given(clusterings())
def test_pair_counts_equal_brute_force(case: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    predicted, truth = case
    counts = pair_counts(align(predicted, truth))
    expected = _brute_pairs(_records(predicted, truth))
    assert (counts.true_pairs, counts.predicted_pairs, counts.correct_pairs) == expected


@given(clusterings())
def test_breakdown_equals_brute_force(case: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    predicted, truth = case
    records = _records(predicted, truth)
    table = error_breakdown(align(predicted, truth))
    for label in EVAL_LABELS:
        rows = table.filter((pl.col("group") == "error") & (pl.col("label") == label))
        true, pred, correct = _brute_pairs(records, involving=label)
        if rows.height == 0:  # label absent from the data
            assert true == pred == 0
            continue
        row = rows.row(0, named=True)
        assert (row["true_pairs"], row["found_pairs"], row["false_pairs"]) == (
            true,
            correct,
            pred - correct,
        )
    for kind in ("personnummer", "samordningsnummer", "none"):
        rows = table.filter((pl.col("group") == "id_kind") & (pl.col("label") == kind))
        tagged = [{**r, "error_types": [kind] if r["id_kind"] == kind else []} for r in records]
        true, pred, correct = _brute_pairs(tagged, involving=kind)
        got = rows.row(0, named=True) if rows.height else {}
        assert (got.get("true_pairs", 0), got.get("found_pairs", 0)) == (true, correct)
        assert got.get("false_pairs", 0) == pred - correct
    clean = [r for r in records if not r["error_types"]]
    true, pred, correct = _brute_pairs(clean)
    row = table.filter(pl.col("label") == "(no error)").row(0, named=True)
    assert (row["true_pairs"], row["found_pairs"], row["false_pairs"]) == (
        true,
        correct,
        pred - correct,
    )


@given(clusterings(), st.integers(2, 3))
def test_case_counts_equal_brute_force(case: tuple[pl.DataFrame, pl.DataFrame], k: int) -> None:
    predicted, truth = case
    records = _records(predicted, truth)
    children: dict[object, set[object]] = {}
    clusters: dict[object, list[dict[str, object]]] = {}
    for r in records:
        children.setdefault(r["child_id"], set()).add(r["agency"])
        clusters.setdefault(r["cluster"], []).append(r)
    true_cases = {c for c, ags in children.items() if len(ags) >= k}
    predicted_cases = [rs for rs in clusters.values() if len({r["agency"] for r in rs}) >= k]
    correct = sum(len({r["child_id"] for r in rs}) == 1 for rs in predicted_cases)
    found = {
        c
        for rs in clusters.values()
        for c in {r["child_id"] for r in rs}
        if len({r["agency"] for r in rs if r["child_id"] == c}) >= k
    }
    counts = case_counts(align(predicted, truth), k)
    assert counts.true_cases == len(true_cases)
    assert counts.predicted_cases == len(predicted_cases)
    assert counts.correct_cases == correct
    assert counts.found_cases == len(found)


@given(clusterings())
def test_perfect_prediction_scores_one(case: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    _, truth = case
    perfect = truth.select("agency", "record_id", pl.col("child_id").alias("cluster_id"))
    result = evaluate(perfect, truth)
    assert result.pairs.precision == result.pairs.recall == result.pairs.f1 == 1.0
    assert result.cases.precision == result.cases.recall == 1.0
    assert (result.by_error["missed_pairs"] == 0).all()
    assert (result.by_error["false_pairs"] == 0).all()


@given(clusterings(), st.randoms(use_true_random=False))
def test_metrics_do_not_depend_on_cluster_names_or_row_order(
    case: tuple[pl.DataFrame, pl.DataFrame], rnd: random.Random
) -> None:
    predicted, truth = case
    names = predicted["cluster_id"].unique().to_list()
    shuffled = list(names)
    rnd.shuffle(shuffled)
    renamed = predicted.with_columns(
        pl.col("cluster_id").replace_strict(names, [f"x{n}" for n in shuffled])
    ).sample(fraction=1.0, shuffle=True, seed=1)
    first, second = evaluate(predicted, truth), evaluate(renamed, truth)
    assert first.pairs == second.pairs
    assert first.cases == second.cases
    assert first.by_error.equals(second.by_error)


def test_unknown_or_duplicate_records_are_refused() -> None:
    truth = pl.DataFrame(
        {"agency": ["a"], "record_id": ["1"], "child_id": [1], "error_types": [[]]},
        schema_overrides={"error_types": pl.List(pl.String)},
    )
    stray = pl.DataFrame({"agency": ["a"], "record_id": ["2"], "cluster_id": [1]})
    with pytest.raises(InputFileError, match="truth file does not have"):
        evaluate(stray, truth)
    twice = pl.DataFrame({"agency": ["a", "a"], "record_id": ["1", "1"], "cluster_id": [1, 2]})
    with pytest.raises(InputFileError, match="twice"):
        evaluate(twice, truth)


def test_refs_resolve_through_local_maps(tmp_path: Path) -> None:
    pl.DataFrame({"ref": ["r1", "r2"], "record_id": ["A-1", "A-2"], "row": [2, 3]}).write_parquet(
        tmp_path / "skola.map.parquet"
    )
    pl.DataFrame({"ref": ["r3"], "record_id": ["P-1"], "row": [2]}).write_parquet(
        tmp_path / "polis.map.parquet"
    )
    pl.DataFrame({"ref": ["r9"], "bloom": [b"x"]}).write_parquet(tmp_path / "hashed.parquet")
    maps = read_local_maps([tmp_path])  # the folder's non-map Parquet file is skipped
    clusters = pl.DataFrame(
        {"agency": ["skola", "skola", "polis"], "ref": ["r1", "r2", "r3"], "cluster_id": [0, 1, 0]}
    )
    resolved = resolve_refs(clusters, maps)
    assert sorted(resolved.rows()) == [
        ("polis", "P-1", 0),
        ("skola", "A-1", 0),
        ("skola", "A-2", 1),
    ]
    with pytest.raises(InputFileError, match="no local map"):
        resolve_refs(clusters.with_columns(ref=pl.lit("zz")), maps)
    with pytest.raises(InputFileError, match="lacks ref or record_id"):
        read_local_maps([tmp_path / "hashed.parquet"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="no local map files"):
        read_local_maps([tmp_path / "empty"])


def test_local_maps_are_read_against_map_schema(tmp_path: Path) -> None:
    good = pl.DataFrame({"ref": ["r1"], "record_id": ["A-1"], "row": [2]})
    good.with_columns(pl.col("row").cast(pl.Int32)).write_parquet(tmp_path / "a.map.parquet")
    assert read_local_maps([tmp_path]).schema == pl.Schema(
        {"ref": pl.String, "record_id": pl.String}
    )
    good.drop("row").write_parquet(tmp_path / "a.map.parquet")
    with pytest.raises(MissingColumnError) as missing:
        read_local_maps([tmp_path])
    assert missing.value.column == "row"
    good.with_columns(row=pl.lit("zwei")).write_parquet(tmp_path / "a.map.parquet")
    with pytest.raises(InputFileError) as typed:
        read_local_maps([tmp_path])
    assert typed.value.reason == "map_schema"


def test_read_truth_checks_columns(tmp_path: Path) -> None:
    bad = tmp_path / "t.parquet"
    pl.DataFrame({"agency": ["a"]}).write_parquet(bad)
    with pytest.raises(InputFileError, match="lacks columns"):
        read_truth(bad)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    with pytest.raises(InputFileError):
        read_truth(junk)


def test_window_limits_cases() -> None:
    truth = pl.DataFrame(
        {
            "agency": ["skola", "polis"],
            "record_id": ["1", "2"],
            "child_id": [7, 7],
            "error_types": [[], []],
            "signal_date": [date(2026, 5, 1), date(2026, 9, 1)],
        },
        schema_overrides={"error_types": pl.List(pl.String)},
    )
    predicted = truth.select("agency", "record_id", pl.lit(1).alias("cluster_id"))
    inside = evaluate(predicted, truth, window=(date(2026, 4, 1), date(2026, 9, 30)))
    outside = evaluate(predicted, truth, window=(date(2026, 4, 1), date(2026, 6, 30)))
    assert inside.cases.true_cases == inside.cases.found_cases == 1
    assert outside.cases.true_cases == outside.cases.predicted_cases == 0


def test_sweep_best_threshold_and_plot(tmp_path: Path) -> None:
    truth = pl.DataFrame(
        {
            "agency": ["skola", "polis", "skola", "polis"],
            "record_id": ["1", "2", "3", "4"],
            "child_id": [1, 1, 2, 3],
            "error_types": [[], ["id_typo"], [], []],
        },
        schema_overrides={"error_types": pl.List(pl.String)},
    )

    def link_at(threshold: float) -> pl.DataFrame:
        # Low thresholds merge children 2 and 3 too; high ones split child 1.
        clusters = [0, 0, 1, 1] if threshold < 0.5 else [0, 0, 1, 2]
        if threshold > 0.8:
            clusters = [0, 1, 2, 3]
        return truth.select("agency", "record_id").with_columns(cluster_id=pl.Series(clusters))

    frame = sweep(link_at, [0.9, 0.3, 0.6], truth)
    assert frame["threshold"].to_list() == [0.3, 0.6, 0.9]
    assert frame["precision"].to_list() == [0.5, 1.0, 1.0]
    assert frame["recall"].to_list() == [1.0, 1.0, 0.0]
    assert best_threshold(frame) == 0.6
    png = plot_sweep(frame, tmp_path / "sweep.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _febrl_frame() -> pl.DataFrame:
    """A tiny FEBRL-shaped frame: entity 1 with two duplicates, entity 2 alone."""
    return pl.DataFrame(
        {
            "rec_id": ["rec-1-org", "rec-1-dup-0", "rec-1-dup-1", "rec-2-org"],
            "given_name": ["anna", "anna", "berg", "bo"],
            "surname": ["berg", "bergh", "anna", None],
            "date_of_birth": ["19990101", None, "19990101", "20010203"],
            "soc_sec_id": ["111", "111", "112", "222"],
            "postcode": ["1", "2", "3", "4"],
        }
    )


@pytest.mark.parametrize("lists", [2, 3])
def test_febrl_split_keeps_names_dates_and_truth(lists: int) -> None:
    split = split_febrl(_febrl_frame(), lists=lists)
    agencies = {"org", "dup"} if lists == 2 else {"org", "dup1", "dup2"}
    assert set(split.exports) == agencies
    for frame in split.exports.values():
        assert frame.columns == ["Ärende-ID", "Förnamn", "Efternamn", "Födelsedatum"]
    truth = split.truth.sort("record_id")
    assert truth["child_id"].to_list() == ["1", "1", "1", "2"]
    errors = dict(zip(truth["record_id"], truth["error_types"].to_list(), strict=True))
    assert errors["rec-1-org"] == [] and errors["rec-2-org"] == []
    assert sorted(errors["rec-1-dup-0"]) == ["birth_date_missing", "surname_differs"]
    assert sorted(errors["rec-1-dup-1"]) == [
        "given_name_differs",
        "names_swapped",
        "surname_differs",
    ]
    by_agency = dict(zip(truth["record_id"], truth["agency"], strict=True))
    if lists == 3:
        assert by_agency["rec-1-dup-0"] == "dup1" and by_agency["rec-1-dup-1"] == "dup2"
    assert split.identity.height == 4


def test_febrl_split_refuses_bad_frames() -> None:
    with pytest.raises(InputFileError):
        split_febrl(_febrl_frame(), lists=1)
    with pytest.raises(InputFileError):
        split_febrl(_febrl_frame().drop("surname"))
    with pytest.raises(InputFileError):
        split_febrl(_febrl_frame().with_columns(pl.lit("x-1").alias("rec_id")))
