"""Export vocabulary and loud warnings: referral/registration numbers as record id, case and
event types as signal; a missing record-id column and unknown xlsx row numbers are warned about
(located, never quoting a value); the xlsx first-row scan reads the sheet XML with a parser."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import MatcherWarning
from matcher.steward import read_xlsx
from matcher.steward.exports import map_columns, read_export
from matcher.steward.read_xlsx import xlsx_first_row


@pytest.mark.parametrize(
    "header",
    [
        "Remissnr",
        "Remiss-nr",
        "Remissnummer",
        "Löpnr",
        "Löpnummer",
        "Löp-nr.",
        "Registreringsnr",
        "Registreringsnummer",
        "Reg.nr",
        "REGISTRERINGSNR",
    ],
)
def test_referral_and_registration_numbers_are_the_record_id(header: str) -> None:
    mapping = map_columns(["Personnummer", header, "Datum"])
    assert mapping.fields["record_id"] == header


@pytest.mark.parametrize(
    "header", ["Ärendetyp", "Typ av händelse", "Kontaktorsak", "Händelsetyp", "Arendetyp"]
)
def test_case_and_event_types_are_the_signal(header: str) -> None:
    mapping = map_columns(["Personnummer", header, "Löpnr"])
    assert mapping.fields["signal"] == header
    assert mapping.fields["record_id"] == "Löpnr"


_cell = st.text(alphabet="ABCDEFGHÅÄÖabcdefghåäö0123456789-", min_size=4, max_size=12)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_cell, _cell, _cell), min_size=1, max_size=5))
def test_missing_record_id_is_warned_without_values(
    tmp_path: Path, rows: list[tuple[str, str, str]]
) -> None:
    path = tmp_path / "polis.csv"
    lines = ["Personnummer;Förnamn;Efternamn"] + [";".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.warns(MatcherWarning) as caught:
        read_export(path)
    (warning,) = [w.message for w in caught if isinstance(w.message, MatcherWarning)]
    assert warning.reason == "no_record_id"
    assert "polis.csv" in str(warning) and "record-id" in str(warning)
    assert not any(cell in str(warning) for row in rows for cell in row)


def test_no_warning_when_the_record_id_is_there(tmp_path: Path) -> None:
    path = tmp_path / "bup.csv"
    path.write_text("Personnummer;Remissnr\n20080121-2242;R-1\n", encoding="utf-8")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", MatcherWarning)
        export = read_export(path)
    assert export.frame["record_id"].to_list() == ["R-1"]


def _titled_workbook(path: Path, first: int) -> None:
    """A sheet whose first value is on 1-based row ``first``: a title, a blank row, the header."""
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Remisser")
    ws.write(first - 1, 0, "Remisser HT 2026")
    ws.write_row(first + 1, 0, ["Personnummer", "Remissnr", "Ärendetyp"])
    ws.write_row(first + 2, 0, ["20080121-2242", "R-1", "oro"])
    ws.write_row(first + 3, 0, ["20090213-0616", "R-2", "skolfrånvaro"])
    wb.close()


@pytest.mark.parametrize("first", [1, 3, 7])
def test_xlsx_rows_are_the_sheet_rows(tmp_path: Path, first: int) -> None:
    path = tmp_path / "remisser.xlsx"
    _titled_workbook(path, first)
    assert xlsx_first_row(path, 0) == first
    export = read_export(path)
    assert export.info.header_row == first + 2
    assert export.frame["row"].to_list() == [first + 3, first + 4]
    assert export.frame["record_id"].to_list() == ["R-1", "R-2"]
    assert export.frame["signal"].to_list() == ["oro", "skolfrånvaro"]


_WORKBOOK = """<?xml version="1.0" encoding="UTF-8"?>
<x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<x:sheets><x:sheet name="A" sheetId="1" r:id="rId7"/></x:sheets></x:workbook>"""
_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId7" Type="worksheet" Target="/xl/worksheets/data.xml"/></Relationships>"""


def _raw_xlsx(path: Path, sheet_xml: str) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _RELS)
        zf.writestr("xl/worksheets/data.xml", sheet_xml)


def test_first_row_with_prefixed_tags_and_styled_empty_rows(tmp_path: Path) -> None:
    # An empty but styled row comes first, with a comment holding "<x:v>" that a regex over the
    # XML would take for a value; then an inline string (<is>) is the first value.
    sheet = """<?xml version="1.0" encoding="UTF-8"?>
<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>
<x:row r="2" spans="1:3"><x:c r="A2" s="1"/><!-- <x:v>0</x:v> --></x:row>
<x:row r="4"><x:c r="A4" t="inlineStr"><x:is><x:t>Titel</x:t></x:is></x:c></x:row>
<x:row r="6"><x:c r="A6"><x:v>1</x:v></x:c></x:row>
</x:sheetData></x:worksheet>"""
    path = tmp_path / "raw.xlsx"
    _raw_xlsx(path, sheet)
    assert xlsx_first_row(path, 0) == 4


def test_first_row_unknown_on_broken_sheet_xml(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    _raw_xlsx(path, "<worksheet><sheetData><row r='3'><c><v>1</c></row>")
    assert xlsx_first_row(path, 0) is None
    assert xlsx_first_row(path, 5) is None  # no such sheet


def test_unknown_row_numbers_are_warned_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "remisser.xlsx"
    _titled_workbook(path, 3)
    monkeypatch.setattr(read_xlsx, "xlsx_first_row", lambda path, index: None)
    with pytest.warns(MatcherWarning) as caught:
        export = read_export(path)
    reasons = [w.message.reason for w in caught if isinstance(w.message, MatcherWarning)]
    assert reasons == ["xlsx_row_numbers"]
    assert export.frame["row"].to_list() == [4, 5]  # counted from row 1, as the warning says


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    first=st.integers(1, 40),
    titles=st.lists(st.integers(0, 2), max_size=3),
    n_rows=st.integers(1, 4),
)
def test_xlsx_row_numbers_are_the_sheet_rows_for_any_layout(
    tmp_path: Path, first: int, titles: list[int], n_rows: int
) -> None:
    """Title rows (each followed by 0-2 blank rows) above the header, starting anywhere: every
    data row keeps the row number the steward sees in Excel."""
    path = tmp_path / "layout.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Lista")
    at = first - 1  # 0-based row index
    for gap in titles:
        ws.write(at, 0, "Rubrik")
        at += 1 + gap
    ws.write_row(at, 0, ["Personnummer", "Löpnr", "Typ av händelse"])
    header = at + 1
    for i in range(n_rows):
        ws.write_row(header + i, 0, [f"2008012{i}-224{i}", f"L-{i}", "oro"])
    wb.close()
    export = read_export(path)
    assert export.info.header_row == header
    assert export.frame["row"].to_list() == [header + 1 + i for i in range(n_rows)]
    assert export.frame["record_id"].to_list() == [f"L-{i}" for i in range(n_rows)]
