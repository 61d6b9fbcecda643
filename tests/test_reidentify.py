"""Re-identification on the agency's machine: view + local map (+ own export) → meeting list."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.disclosure import DisclosurePolicy
from matcher.errors import ConfigError, InputFileError, MissingColumnError
from matcher.reidentify import (
    MEETING_HEADERS,
    STRENGTH_LABELS,
    export_identities,
    meeting_list,
    read_map,
    write_meeting_list,
)
from matcher.steward.exports import read_export
from matcher.steward.hashing import MAP_SCHEMA


def test_meeting_list_needs_the_right_map() -> None:
    view = {
        "cases": [
            {
                "case_id": "K00001",
                "records": [{"ref": "r1", "signal": "oro", "signal_date": "2026-01-02"}],
                "others": [{"agency": "polis", "signals": ["brott"]}],
            }
        ]
    }
    local_map = pl.DataFrame({"ref": ["r1"], "record_id": ["ÄR-7"], "row": [4]})
    frame = meeting_list(view, local_map, "agencies_and_categories")
    assert frame.row(0, named=True) == {
        "case_id": "K00001",
        "record_id": "ÄR-7",
        "row": 4,
        "signal": "oro",
        "signal_date": "2026-01-02",
        "other_agencies": "polis",
        "other_signals": "polis: brott",
    }
    assert "other_signals" not in meeting_list(view, local_map, "agencies_only").columns
    wrong = pl.DataFrame({"ref": ["r9"], "record_id": ["x"], "row": [1]})
    with pytest.raises(ConfigError, match="not in the map"):
        meeting_list(view, wrong, "agencies_only")


def _view(strength: str | None = None) -> dict[str, Any]:
    case: dict[str, Any] = {
        "case_id": "K00002",
        "records": [
            {"ref": "r2", "signal": "oro", "signal_date": "2026-01-03"},
            {"ref": "r1", "signal": "frånvaro", "signal_date": "2026-01-02"},
        ],
        "others": [{"agency": "polis", "signals": ["brott"]}, {"agency": "bup", "signals": None}],
    }
    if strength is not None:
        case["strength"] = strength
    return {"agency": "skola", "disclosure_policy": "agencies_only", "cases": [case]}


def _export(tmp_path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    """A CSV export: personnummer; first name; last name; birth date; record id (from row 2)."""
    path = tmp_path / "skola.csv"
    lines = ["Personnummer;Förnamn;Efternamn;Födelsedatum;Ärende-ID"]
    lines += [";".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ROWS = [
    ("20080121-2242", "Noah", "Lindqvist", "2008-01-21", "SK-1"),
    ("20090213-0616", "Ella Sofia", "Öberg", "2009-02-13", "SK-2"),
    ("", "Omar", "Al-Hassan", "2010-11-26", "SK-3"),
]
MAP = pl.DataFrame({"ref": ["r1", "r2"], "record_id": ["SK-1", "SK-3"], "row": [2, 4]})


def test_map_is_read_against_map_schema(tmp_path: Path) -> None:
    path = tmp_path / "map.parquet"
    MAP.with_columns(pl.col("row").cast(pl.Int32)).write_parquet(path)
    assert read_map(path).schema == pl.Schema(MAP_SCHEMA)
    MAP.drop("row").write_parquet(path)
    with pytest.raises(MissingColumnError):
        read_map(path)
    MAP.with_columns(row=pl.lit("zwei")).write_parquet(path)
    with pytest.raises(InputFileError) as err:
        read_map(path)
    assert err.value.reason == "map_schema"
    path.write_bytes(b"not parquet")
    with pytest.raises(InputFileError):
        read_map(path)


def test_strength_passes_through_when_the_view_has_it() -> None:
    frame = meeting_list(_view("probable"), MAP, DisclosurePolicy.AGENCIES_ONLY)
    assert frame.columns[:2] == ["case_id", "strength"]
    assert frame["strength"].to_list() == ["probable", "probable"]
    assert "strength" not in meeting_list(_view(), MAP, "agencies_only").columns


def test_export_join_adds_the_childs_identity(tmp_path: Path) -> None:
    export = read_export(_export(tmp_path, ROWS)).frame
    frame = meeting_list(_view("identity number"), MAP, "agencies_only", export_frame=export)
    assert frame.select("record_id", "row", "name", "personnummer", "birth_date").rows() == [
        ("SK-1", 2, "Noah Lindqvist", "20080121-2242", "2008-01-21"),
        ("SK-3", 4, "Omar Al-Hassan", None, "2010-11-26"),
    ]


def test_export_join_refuses_another_export(tmp_path: Path) -> None:
    short = read_export(_export(tmp_path, ROWS[:1])).frame
    with pytest.raises(ConfigError, match="not in the export") as err:
        meeting_list(_view(), MAP, "agencies_only", export_frame=short)
    assert err.value.reason == "export_mismatch"
    shuffled = read_export(_export(tmp_path, [ROWS[2], ROWS[1], ROWS[0]])).frame
    with pytest.raises(ConfigError, match="another record id") as err:
        meeting_list(_view(), MAP, "agencies_only", export_frame=shuffled)
    assert "Noah" not in str(err.value) and "SK-1" not in str(err.value)


def test_full_name_column_is_the_name() -> None:
    frame = pl.DataFrame({"row": [2, 3], "full_name": [" Öberg, Ella ", None]})
    assert export_identities(frame)["name"].to_list() == ["Öberg, Ella", None]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_written_meeting_list_is_readable(tmp_path: Path, suffix: str) -> None:
    export = read_export(_export(tmp_path, ROWS)).frame
    view = _view("names and birth date")
    frame = meeting_list(view, MAP, "agencies_and_categories", export_frame=export)
    out = tmp_path / f"meeting{suffix}"
    write_meeting_list(frame, out)
    written = pl.read_excel(out) if suffix == ".xlsx" else pl.read_csv(out)
    assert written.columns == [MEETING_HEADERS[c] for c in frame.columns]
    assert (
        written[MEETING_HEADERS["strength"]].to_list()
        == [STRENGTH_LABELS["names and birth date"]] * 2
    )
    assert written[MEETING_HEADERS["name"]].to_list() == ["Noah Lindqvist", "Omar Al-Hassan"]
    assert written[MEETING_HEADERS["other_signals"]].to_list() == ["polis: brott"] * 2
    with pytest.raises(ConfigError):
        write_meeting_list(frame, tmp_path / "meeting.txt")


def test_xlsx_columns_fit_their_text(tmp_path: Path) -> None:
    import zipfile

    export = read_export(_export(tmp_path, ROWS)).frame
    frame = meeting_list(_view("probable"), MAP, "agencies_only", export_frame=export)
    out = tmp_path / "meeting.xlsx"
    write_meeting_list(frame, out)
    with zipfile.ZipFile(out) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
        table = zf.read("xl/tables/table1.xml").decode()
    import re

    widths = {}
    for lo, hi, width in re.findall(r'<col min="(\d+)" max="(\d+)" width="([\d.]+)"', sheet):
        widths.update(dict.fromkeys(range(int(lo), int(hi) + 1), float(width)))
    headers = [MEETING_HEADERS[c] for c in frame.columns]
    assert sorted(widths) == list(range(1, len(headers) + 1))  # an explicit width per column
    for index, header in enumerate(headers, start=1):
        assert len(header) <= widths[index] <= 70  # the header fits; nothing sprawls
    assert 'state="frozen"' in sheet and "<autoFilter " in table  # header frozen, filter on


_names = st.text(
    alphabet="ABCDEFGHIJKLMNOPRSTUVYÅÄÖabcdefghijklmnoprstuvyåäö", min_size=5, max_size=12
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
@given(st.lists(st.tuples(_names, _names), min_size=2, max_size=6, unique=True))
def test_identities_go_only_to_the_local_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, people: list[tuple[str, str]]
) -> None:
    """No socket is used while the export is read and joined; its names reach the output."""
    rows = [
        (f"2008010{i}-000{i}", given, surname, f"2008-01-0{i + 1}", f"SK-{i}")
        for i, (given, surname) in enumerate(people)
    ]
    local_map = pl.DataFrame({"ref": ["r1", "r2"], "record_id": ["SK-0", "SK-1"], "row": [2, 3]})

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a network call during re-identification")

    for name in ("connect", "connect_ex", "send", "sendall", "sendto"):
        monkeypatch.setattr(socket.socket, name, no_network)
    export = read_export(_export(tmp_path, rows)).frame
    frame = meeting_list(_view(), local_map, "agencies_only", export_frame=export)
    out = tmp_path / "meeting.csv"
    write_meeting_list(frame, out)
    monkeypatch.undo()
    text = out.read_text(encoding="utf-8-sig")
    for first, last in people[:2]:
        assert f"{first} {last}" in text


def test_csv_cells_never_become_formulas(tmp_path: Path) -> None:
    rows = [
        ("20080121-2242", "=HYPERLINK(1)", "+Lindqvist", "2008-01-21", "SK-1"),
        ("", "Omar", "@Al-Hassan", "2010-11-26", "SK-3"),
    ]
    export = read_export(_export(tmp_path, [rows[0], ROWS[1], rows[1]])).frame
    frame = meeting_list(_view(), MAP, "agencies_only", export_frame=export)
    out = tmp_path / "meeting.csv"
    write_meeting_list(frame, out)
    names = pl.read_csv(out)[MEETING_HEADERS["name"]].to_list()
    assert names == ["'=HYPERLINK(1) +Lindqvist", "Omar @Al-Hassan"]
    xlsx = tmp_path / "meeting.xlsx"
    write_meeting_list(frame, xlsx)  # strings stay strings in the workbook
    assert pl.read_excel(xlsx)[MEETING_HEADERS["name"]].to_list()[0] == "=HYPERLINK(1) +Lindqvist"
