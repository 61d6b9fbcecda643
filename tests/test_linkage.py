"""link() end to end on hashed files built directly: order-free, no chaining, cases, errors."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.errors import ConfigError, KeyMismatchError, LinkageError
from matcher.linkage.blocking import BlockingParams
from matcher.linkage.linkage import (
    DEFAULT_THRESHOLD,
    LinkageArrays,
    dice_coefficients,
    link,
    link_arrays,
)
from matcher.steward.hashed_file import HASHED_SCHEMA, EncodingParams, HashedFile, HashedFileHeader
from tests.strategies import linkage_rounds

WINDOW = (date(2024, 1, 1), date(2024, 12, 31))


def _file(agency: str, rows: list[dict], nbits: int = 128, key_check: str = "00" * 8) -> HashedFile:
    frame = pl.DataFrame(
        [{"agency": agency, "signal": "oro", "signal_date": None, **r} for r in rows],
        schema=HASHED_SCHEMA,
    )
    header = HashedFileHeader(
        round_id="round-test",
        agency=agency,
        key_check=key_check,
        row_count=frame.height,
        encoding=EncodingParams(bits=nbits),
    )
    return HashedFile(header=header, frame=frame)


def _row(ref: str, **values: object) -> dict:
    base: dict = {"id_token": None, "name_tokens": [], "block_tokens": [], "bloom": None}
    return {"ref": ref, **base, **values}


def _clusters(files: list[HashedFile], **kwargs: object) -> set[frozenset[tuple[str, str]]]:
    clusters = link(files, **kwargs).clusters  # type: ignore[arg-type]
    groups = clusters.group_by("cluster_id").agg(pl.struct("agency", "ref"))
    return {frozenset((m["agency"], m["ref"]) for m in g) for g in groups["agency"]}


def _shuffled(files: list[HashedFile], rnd) -> list[HashedFile]:
    out = []
    for f in files:
        order = list(range(f.frame.height))
        rnd.shuffle(order)
        out.append(HashedFile(header=f.header, frame=f.frame[order]))
    rnd.shuffle(out)
    return out


@given(linkage_rounds(), st.randoms(use_true_random=False))
def test_order_of_files_and_rows_does_not_change_the_result(files, rnd) -> None:
    first = link(files, k=2)
    again = link(_shuffled(files, rnd), k=2)
    assert first.clusters.equals(again.clusters)  # canonical order: even the ids agree
    assert first.cases.equals(again.cases)
    assert first.stats.links == again.stats.links


@given(linkage_rounds(token_space=4))
def test_no_cluster_holds_two_identity_numbers(files) -> None:
    """Tiny token spaces make many children share name tokens and blocks: chains everywhere."""
    result = link(files, threshold=0.5)
    tokens = pl.concat([f.frame.select("agency", "ref", "id_token") for f in files])
    joined = result.clusters.join(tokens, on=["agency", "ref"])
    per_cluster = joined.group_by("cluster_id").agg(pl.col("id_token").drop_nulls().n_unique())
    assert (per_cluster["id_token"] <= 1).all()
    # and records with the same identity number are always together
    per_token = (
        joined.drop_nulls("id_token").group_by("id_token").agg(pl.col("cluster_id").n_unique())
    )
    assert (per_token["cluster_id"] == 1).all()


@given(
    linkage_rounds(),
    st.sets(st.sampled_from(["bup", "fritid", "polis", "skola"]), min_size=2),
    st.integers(1, 3),
)
def test_a_child_with_identical_identifiers_is_one_case(files, agencies, copies) -> None:
    by_agency = {f.header.agency: f for f in files}
    child = {
        "id_token": 10**9,
        "name_tokens": [10**9 + 1],
        "block_tokens": [1],
        "bloom": bytes(range(16)),
        "signal_date": date(2024, 6, 1),
    }
    out = []
    for agency in sorted(set(by_agency) | agencies):
        rows = (
            [_row(f"child-{agency}-{c}", **child) for c in range(copies)]
            if agency in agencies
            else []
        )
        extra = _file(agency, rows).frame
        old = by_agency[agency].frame if agency in by_agency else extra.clear()
        frame = pl.concat([old, extra])
        header = _file(agency, []).header.model_copy(update={"row_count": frame.height})
        out.append(HashedFile(header=header, frame=frame))
    result = link(out, k=len(agencies), window_from=WINDOW[0], window_to=WINDOW[1])
    mine = result.cases.filter(pl.col("ref").str.starts_with("child-"))
    assert mine.height == len(agencies) * copies
    assert mine["case_id"].n_unique() == 1


@given(linkage_rounds(), st.integers(1, 3))
def test_raising_k_never_adds_cases(files, k) -> None:
    def cases(k: int) -> set[frozenset[str]]:
        found = link(files, k=k).cases
        return {frozenset(g) for g in found.group_by("case_id").agg("ref")["ref"].to_list()}

    assert cases(k + 1) <= cases(k)


def test_exact_and_fuzzy_links() -> None:
    typo = bytearray(bytes(range(16)))
    typo[3] ^= 0b1  # one bit off: Dice ~ 0.98
    files = [
        _file(
            "skola",
            [
                _row("s1", id_token=5),
                _row("s2", name_tokens=[40], bloom=bytes(range(16)), block_tokens=[1]),
            ],
        ),
        _file("polis", [_row("p1", id_token=5), _row("p2", bloom=bytes(typo), block_tokens=[1])]),
        _file(
            "fritid", [_row("f1", name_tokens=[40]), _row("f2", bloom=bytes(16), block_tokens=[1])]
        ),
    ]
    result = link(files)
    assert _clusters(files) == {
        frozenset({("skola", "s1"), ("polis", "p1")}),
        frozenset({("skola", "s2"), ("polis", "p2"), ("fritid", "f1")}),
        frozenset({("fritid", "f2")}),
    }
    links = result.stats.links
    assert (links["id"], links["name"], links["fuzzy"]) == (1, 1, 1)
    assert result.stats.cases == 2 and result.stats.clusters == 3 and result.stats.records == 6
    assert set(result.stats.as_dict()) >= {"records", "clusters", "cases", "links", "timings"}
    # the same pair without a shared block is never compared
    apart = [
        _file("skola", [_row("s", bloom=bytes(range(16)), block_tokens=[1])]),
        _file("polis", [_row("p", bloom=bytes(range(16)), block_tokens=[2])]),
    ]
    assert len(_clusters(apart)) == 2
    assert len(_clusters(apart, threshold=1.0)) == 2


def test_oversize_blocks_still_find_identical_encodings() -> None:
    rng = np.random.default_rng(3)
    rows: dict[str, list[dict]] = {"skola": [], "polis": []}
    for i in range(40):
        bloom = rng.integers(0, 256, size=16, dtype=np.uint8).tobytes()
        for agency in rows:
            rows[agency].append(
                _row(f"{agency}{i}", bloom=bloom, block_tokens=[7])
            )  # one giant block
    files = [_file(a, r) for a, r in rows.items()]
    small = BlockingParams(max_block=10, tile=8, passes=2)
    result = link(files, blocking=small)
    assert result.stats.links["oversize_blocks"] == 1
    assert result.stats.cases == 40
    assert _clusters(files) == _clusters(files, blocking=small)


def test_refusals() -> None:
    one = _file("skola", [_row("a", id_token=1)])
    with pytest.raises(LinkageError):
        link([])
    with pytest.raises(LinkageError, match="twice"):
        link([one, one])
    with pytest.raises(KeyMismatchError):
        link([one, _file("polis", [_row("b")], key_check="11" * 8)])
    with pytest.raises(KeyMismatchError):
        link([one, _file("polis", [_row("b")], nbits=256)])
    for bad in (0.0, 1.5, float("nan")):
        with pytest.raises(ConfigError):
            link([one], threshold=bad)
    with pytest.raises(ConfigError):
        link([one], k=0)
    with pytest.raises(LinkageError):
        link([one], blocking=BlockingParams(max_block=10**6))


def _arrays(n: int = 3) -> LinkageArrays:
    return LinkageArrays(
        id_tokens=np.zeros(n, np.uint64),
        id_valid=np.zeros(n, bool),
        name_offsets=np.zeros(n + 1, np.int64),
        name_tokens=np.zeros(0, np.uint64),
        block_offsets=np.zeros(n + 1, np.int64),
        block_tokens=np.zeros(0, np.uint64),
        bits=np.zeros((n, 2), np.uint64),
        bloom_valid=np.zeros(n, bool),
        nbits=128,
    )


def test_link_arrays_validates_before_computing() -> None:
    assert link_arrays(_arrays()).labels.tolist() == [0, 1, 2]
    assert link_arrays(_arrays(0)).labels.size == 0
    good = _arrays()
    for change in (
        {"id_tokens": np.zeros(3, np.int64)},
        {"bits": np.zeros((3, 3), np.uint64)},
        {"name_offsets": np.array([0, 1, 1, 1], np.int64)},
        {"block_offsets": np.array([0, 0, 0], np.int64)},
        {"nbits": 32},
    ):
        with pytest.raises(LinkageError):
            link_arrays(LinkageArrays(**{**good.__dict__, **change}))
    with pytest.raises(ConfigError):
        link_arrays(good, threshold=0)


def test_dice_coefficients_and_bit_packing() -> None:
    blooms = [bytes([0xFF] * 8 + [0] * 8), bytes([0xFF] * 4 + [0] * 12), None, bytes(16)]
    frame = pl.DataFrame(
        [
            _row(str(i), agency="skola", signal=None, signal_date=None, bloom=b)
            for i, b in enumerate(blooms)
        ],
        schema=HASHED_SCHEMA,
    )
    arrays = LinkageArrays.from_frame(frame, 128)
    assert arrays.bloom_valid.tolist() == [True, True, False, True]
    left, right = np.array([0, 0, 3]), np.array([1, 0, 3])
    assert dice_coefficients(arrays.bits, left, right).tolist() == [2 * 32 / 96, 1.0, 0.0]
    with pytest.raises(LinkageError):
        dice_coefficients(arrays.bits, np.array([0]), np.array([4]))
    with pytest.raises(LinkageError):
        dice_coefficients(arrays.bits.astype(np.int64), left, right)
    assert 0.5 < DEFAULT_THRESHOLD < 1.0


def test_blocking_refuses_bad_arrays() -> None:
    from matcher.linkage.blocking import build_blocks

    bits = np.zeros((2, 2), np.uint64)
    offsets = np.array([0, 1, 2], np.int64)
    ok = dict(
        offsets=offsets,
        values=np.array([1, 1], np.uint64),
        eligible=np.ones(2, bool),
        bits=bits,
        nbits=128,
        params=BlockingParams(),
    )
    assert build_blocks(**ok).count == 1  # type: ignore[arg-type]
    for change in (
        {"values": np.array([1, 1], np.int64)},
        {"offsets": np.array([0, 1], np.int64)},
        {"bits": bits.astype(np.int64)},
        {"nbits": 1000},
        {"params": BlockingParams(tile=2)},
        {"params": BlockingParams(passes=65)},
        {"params": BlockingParams(seed=-1)},
    ):
        with pytest.raises(LinkageError):
            build_blocks(**{**ok, **change})  # type: ignore[arg-type]


@given(linkage_rounds(), st.integers(1, 3), st.integers(0, 150), st.integers(0, 150))
def test_widening_the_window_never_removes_cases(files, k, start, length) -> None:
    from datetime import timedelta

    def cases(lo: date | None, hi: date | None) -> list[frozenset[str]]:
        found = link(files, k=k, window_from=lo, window_to=hi).cases
        return [frozenset(g) for g in found.group_by("case_id").agg("ref")["ref"].to_list()]

    lo = date(2024, 1, 1) + timedelta(days=start)
    narrow = cases(lo, lo + timedelta(days=length))
    for wider in (
        cases(lo - timedelta(days=30), lo + timedelta(days=length + 30)),
        cases(None, None),
    ):
        assert all(any(case <= other for other in wider) for case in narrow)


@given(st.uuids().map(lambda u: u.hex))
def test_errors_never_quote_refs(ref: str) -> None:
    one = _file("skola", [_row(ref, id_token=1)])
    with pytest.raises(LinkageError) as caught:
        link([one, one])
    assert ref not in str(caught.value)


def test_token_lists_become_csr_arrays() -> None:
    from matcher.linkage.linkage import _csr

    clean = pl.Series([[5], None, [], [2, 3]], dtype=pl.List(pl.UInt64))
    offsets, values = _csr(clean)
    assert offsets.tolist() == [0, 1, 1, 1, 3] and values.tolist() == [5, 2, 3]
    offsets, values = _csr(clean.slice(2, 2))  # a slice of a larger buffer
    assert offsets.tolist() == [0, 0, 2] and values.tolist() == [2, 3]
    holes = pl.Series([[1, None], None, [4]], dtype=pl.List(pl.UInt64))
    offsets, values = _csr(holes)  # null items are dropped (the slower path)
    assert offsets.tolist() == [0, 1, 1, 2] and values.tolist() == [1, 4]
    assert values.dtype == np.uint64 and offsets.dtype == np.int64
