"""Integration: normalised records hashed by matcher.hashing, then linked across agencies."""

from __future__ import annotations

from datetime import date

import polars as pl

from matcher.hashed_file import read_hashed, to_bytes
from matcher.hashing import RECORD_SCHEMA, hash_records
from matcher.linkage import link

SECRET = bytes(range(32))


def _luhn(nine: str) -> int:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def _pnr(born: date, serial: str) -> str:
    ten = born.strftime("%y%m%d") + serial
    return born.strftime("%Y%m%d") + serial + str(_luhn(ten))


ANNA, ERIK, MO = date(2012, 3, 4), date(2011, 5, 6), date(2013, 7, 8)
PEOPLE = {
    # key: (given names, surnames, birth date, identity number or None)
    "anna": (["anna"], ["lindqvist"], ANNA, _pnr(ANNA, "123")),
    "anna_typo": (["ana"], ["lindqvist"], ANNA, None),  # misspelt, number mistyped (dropped)
    "anna_nonum": (["anna"], ["lindqvist"], ANNA, None),
    "erik": (["erik", "johan"], ["svensson"], ERIK, _pnr(ERIK, "456")),
    "mo_1": (["mohammed"], ["ali"], MO, _pnr(MO, "111")),
    "mo_2": (["mohammed"], ["ali"], MO, _pnr(MO, "222")),  # same name and day, another child
    "mo_nonum": (["mohammed"], ["ali"], MO, None),
    "lone": (["sara"], ["berg"], ERIK, _pnr(ERIK, "789")),
}
LISTS = {
    "skola": ["anna", "erik", "mo_1", "lone"],
    "polis": ["anna_typo", "erik", "mo_2"],
    "socialtjanst": ["anna_nonum", "mo_nonum"],
}


def _records(keys: list[str]) -> pl.DataFrame:
    rows = []
    for i, key in enumerate(keys):
        given, surnames, born, pnr = PEOPLE[key]
        rows.append(
            {
                "row": i + 2,
                "record_id": key,
                "pnr": pnr,
                "pnr_kind": "personnummer" if pnr else None,
                "given_names": given,
                "surnames": surnames,
                "birth_date": born,
                "signal": "oro",
                "signal_date": date(2024, 4, 1),
            }
        )
    return pl.DataFrame(rows, schema=RECORD_SCHEMA)


def test_hashed_lists_link_into_children_and_cases() -> None:
    files, maps = [], {}
    for agency, keys in LISTS.items():
        hashed, local_map = hash_records(
            _records(keys), secret=SECRET, round_id="r-2024", agency=agency
        )
        files.append(read_hashed(to_bytes(hashed.header, hashed.frame)))  # through the format
        names = [f"{agency}:{r}" for r in local_map["record_id"]]
        maps[agency] = dict(zip(local_map["ref"], names, strict=True))
    result = link(files, k=2, window_from=date(2024, 1, 1), window_to=date(2024, 12, 31))

    def who(frame: pl.DataFrame, column: str) -> set[frozenset[str]]:
        groups = frame.group_by(column).agg(pl.struct("agency", "ref"))
        return {
            frozenset(maps[m["agency"]][m["ref"]] for m in members) for members in groups["agency"]
        }

    anna = frozenset({"skola:anna", "polis:anna_typo", "socialtjanst:anna_nonum"})
    erik = frozenset({"skola:erik", "polis:erik"})
    clusters = who(result.clusters, "cluster_id")
    assert anna in clusters  # exact name token, and the fuzzy link for the misspelt name
    assert erik in clusters
    # two children with one name and birth day stay apart; the record without a number joins one
    mo = [c for c in clusters if c & {"skola:mo_1", "polis:mo_2"}]
    assert len(mo) == 2 and sum("socialtjanst:mo_nonum" in c for c in mo) == 1
    cases = who(result.cases, "case_id")
    assert anna in cases and erik in cases
    assert not any("skola:lone" in c for c in cases)
    assert result.stats.links["name_refused"] + result.stats.links["fuzzy_refused"] >= 1
