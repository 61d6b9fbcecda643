"""Reading agency exports: formats, encodings, separators, header mapping and every bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from matcher.errors import ConfigError, InputFileError, MatcherError, MissingColumnError
from matcher.steward.exports import (
    STANDARD_FIELDS,
    header_key,
    load_mapping,
    map_columns,
    read_export,
)

HEADER = "Personnummer;Förnamn;Efternamn;Födelsedatum;Kategori;Datum;Ärende-ID;Anteckning"
ROWS = [
    "20080121-2242;Noah;Lindqvist;;skolfrånvaro;2026-09-02;SK-1;Hög frånvaro",
    "090213-0616;Ella Sofia;Öberg;2009-02-13;oro;2026-09-14;SK-2;",
    ";Omar;Al-Hassan;2010-11-26;oro;2026-10-12;SK-3;Nyanländ",
]


def _csv(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _standard(sep: str = ";") -> str:
    return "\n".join(line.replace(";", sep) for line in [HEADER, *ROWS]) + "\n"


def test_header_key_is_case_space_and_diacritic_insensitive() -> None:
    assert header_key(" Ärende-ID ") == header_key("arende id") == "arendeid"
    assert header_key("FÖRNAMN") == "fornamn"


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_separators_detected(tmp_path: Path, sep: str) -> None:
    export = read_export(_csv(tmp_path, _standard(sep)))
    assert export.info.separator == sep
    assert export.frame.height == 3
    assert export.frame["first_name"].to_list() == ["Noah", "Ella Sofia", "Omar"]


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("utf-16", "utf-16")],
)
def test_encodings_detected(tmp_path: Path, encoding: str, detected: str) -> None:
    export = read_export(_csv(tmp_path, _standard(), encoding))
    assert export.info.encoding == detected
    assert export.frame["last_name"].to_list() == ["Lindqvist", "Öberg", "Al-Hassan"]
    assert "personnummer" in export.frame.columns  # the BOM does not stick to the first header


def test_encoding_override(tmp_path: Path) -> None:
    path = _csv(tmp_path, _standard(), "cp1252")
    assert read_export(path, encoding="latin-1").frame["last_name"][1] == "Öberg"
    with pytest.raises(InputFileError) as err:
        read_export(path, encoding="utf-8")
    assert err.value.reason == "encoding"


def test_unknown_encoding_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        read_export(_csv(tmp_path, _standard()), encoding="no-such-codec")


def test_mapping_and_unmapped_columns_dropped(tmp_path: Path) -> None:
    export = read_export(_csv(tmp_path, _standard()))
    fields = export.info.mapping.fields
    assert fields["record_id"] == "Ärende-ID"
    assert fields["signal"] == "Kategori"
    assert fields["signal_date"] == "Datum"
    assert export.info.mapping.ignored == ("Anteckning",)
    assert set(export.frame.columns) <= {"row", *STANDARD_FIELDS}
    assert "Anteckning" not in export.frame.columns
    assert not any("frånvaro sedan" in str(v) for v in export.frame.rows())


def test_rows_numbered_as_in_a_spreadsheet(tmp_path: Path) -> None:
    export = read_export(_csv(tmp_path, _standard()))
    assert export.info.header_row == 1
    assert export.frame["row"].to_list() == [2, 3, 4]
    titled = "Elevlista HT 2026\n\n" + _standard()
    export = read_export(_csv(tmp_path, titled))
    assert export.info.header_row == 3
    assert export.frame["row"].to_list() == [4, 5, 6]


def test_multiline_quoted_cell_is_one_row(tmp_path: Path) -> None:
    text = (
        "Personnummer;Förnamn;Födelsedatum;Anteckning\n"
        ';Anna;2010-01-01;"rad 1\nrad 2"\n;Per;2011-01-01;\n'
    )
    export = read_export(_csv(tmp_path, text))
    assert export.frame["row"].to_list() == [2, 3]


def test_input_file_never_modified(tmp_path: Path) -> None:
    path = _csv(tmp_path, _standard(), "cp1252")
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    read_export(path)
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


def test_calling_name_and_full_name_priorities() -> None:
    m = map_columns(["Tilltalsnamn", "Förnamn", "Efternamn", "Namn", "Pnr"])
    assert m.fields["first_name"] == "Förnamn"
    assert "full_name" not in m.fields
    assert set(m.ignored) == {"Tilltalsnamn", "Namn"}
    only_full = map_columns(["Namn", "Födelsedatum"])
    assert only_full.fields == {"full_name": "Namn", "birth_date": "Födelsedatum"}


def test_overrides_win_and_report_unmatched() -> None:
    m = map_columns(
        ["Elevens nummer", "Förnamn", "Datum"],
        {"elevens NUMMER": "personnummer", "Datum": "ignore", "Saknas": "signal"},
    )
    assert m.fields["personnummer"] == "Elevens nummer"
    assert "signal_date" not in m.fields
    assert m.unmatched_overrides == ("Saknas",)
    with pytest.raises(ConfigError):
        map_columns(["A"], {"A": "no_such_field"})


def test_mapping_file(tmp_path: Path) -> None:
    toml = tmp_path / "map.toml"
    toml.write_text(
        '[columns]\n"Elevens nummer" = "personnummer"\nAnteckning = "ignore"\n'
        '[read]\nseparator = ";"\nencoding = "cp1252"\n',
        encoding="utf-8",
    )
    config = load_mapping(toml)
    assert config.columns == {"Elevens nummer": "personnummer", "Anteckning": "ignore"}
    assert (config.separator, config.encoding, config.sheet) == (";", "cp1252", None)
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nA = "nope"\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        load_mapping(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[columns\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_mapping(broken)


# --- bad input ---------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    for content in (b"", b"  \n\n", b"\xef\xbb\xbf"):
        path = tmp_path / "empty.csv"
        path.write_bytes(content)
        with pytest.raises(InputFileError) as err:
            read_export(path)
        assert err.value.reason == "empty_file"
        assert "empty.csv" in str(err.value)


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as err:
        read_export(_csv(tmp_path, HEADER + "\n"))
    assert err.value.reason == "no_rows"
    assert err.value.row == 1


def test_wrong_separator_flag(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as err:
        read_export(_csv(tmp_path, _standard(";")), separator=",")
    assert err.value.reason == "wrong_separator"
    assert "';'" in str(err.value)


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InputFileError) as err:
        read_export(path)
    assert err.value.reason in {"encoding", "binary_content"}


def test_a_row_with_nul_bytes_is_skipped_with_a_reason(tmp_path: Path) -> None:
    text = _standard().replace("Ella", "El\x00la")
    export = read_export(_csv(tmp_path, text))
    rejected = export.rejects.filter(pl.col("reason") == "nul_bytes")
    assert rejected["row"].to_list() == [3]
    assert rejected["action"].to_list() == ["row_rejected"]
    assert 3 not in export.frame["row"].to_list() and export.frame.height > 0
    assert "Ella" not in export.rejects.write_csv()


def test_a_file_full_of_nul_bytes_is_refused_whole(tmp_path: Path) -> None:
    lines = _standard().splitlines()
    damaged = [lines[0], *(line.replace(";", ";\x00", 1) for line in lines[1:])]
    with pytest.raises(InputFileError) as err:
        read_export(_csv(tmp_path, "\n".join(damaged * 10) + "\n"))
    assert err.value.reason == "binary_content"


def test_missing_required_columns(tmp_path: Path) -> None:
    with pytest.raises(MissingColumnError) as err:
        read_export(_csv(tmp_path, "Förnamn;Kategori\nAnna;oro\n"))
    assert err.value.reason == "missing_columns"
    # a name and a birth date are enough without an identity number
    assert read_export(_csv(tmp_path, "Namn;Födelsedatum\nAnna Berg;2010-01-01\n")).frame.height


def test_duplicate_headers(tmp_path: Path) -> None:
    text = "Personnummer;Förnamn;Personnummer\n1;Anna;2\n"
    with pytest.raises(InputFileError) as err:
        read_export(_csv(tmp_path, text))
    assert err.value.reason == "duplicate_header"
    assert err.value.column == "Personnummer"
    # duplicates among ignored columns are harmless
    ok = "Personnummer;Anteckning;Anteckning\n20080121-2242;a;b\n"
    assert read_export(_csv(tmp_path, ok)).frame.height == 1


def test_ragged_rows_rejected(tmp_path: Path) -> None:
    text = HEADER + "\n" + ROWS[0] + ";extra;fields\n" + ROWS[1] + "\n" + ";Per\n"
    export = read_export(_csv(tmp_path, text))
    assert export.rejects.select("row", "reason", "action").rows() == [
        (2, "ragged_row", "row_rejected")
    ]
    assert export.frame["row"].to_list() == [3, 4]  # a short row is read with empty fields


def test_unterminated_quote(tmp_path: Path) -> None:
    text = 'Personnummer;Förnamn\n"20080121-2242;Anna\n'
    with pytest.raises(InputFileError) as err:
        read_export(_csv(tmp_path, text))
    assert err.value.reason == "csv_parse"


def test_old_xls_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(InputFileError) as err:
        read_export(path)
    assert err.value.reason == "xls"


# --- Excel and Parquet ---------------------------------------------------------------------------


def _workbook(path: Path) -> None:
    wb = xlsxwriter.Workbook(path)
    info = wb.add_worksheet("Info")
    info.write(0, 0, "Exporterad från skolsystemet")
    ws = wb.add_worksheet("Elever")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write(0, 0, "Elevlista HT 2026")
    ws.write(1, 0, "Skola: Exempelskolan")
    for j, h in enumerate(["Personnummer", "Förnamn", "Efternamn", "Födelsedatum", "Anteckning"]):
        ws.write(3, j, h)
    ws.write_number(4, 0, 801213578)  # 080121-3578 stored as a number: leading zero lost
    ws.write(4, 1, "Noah")
    ws.write(4, 2, "Lindqvist")
    ws.write_datetime(4, 3, dt.datetime(2008, 1, 21), date_fmt)
    ws.write(4, 4, "anteckning")
    ws.write_number(5, 0, 200902130616)
    ws.write(5, 1, "Ella")
    ws.write(5, 2, "Öberg")
    ws.write_number(5, 3, 39857)  # a serial number without a date format
    wb.close()


def test_xlsx_title_rows_sheet_choice_numbers_and_dates(tmp_path: Path) -> None:
    path = tmp_path / "elever.xlsx"
    _workbook(path)
    export = read_export(path)
    info = export.info
    assert (info.format, info.sheet, info.sheets) == ("xlsx", "Elever", ("Info", "Elever"))
    assert info.header_row == 4
    assert export.frame["row"].to_list() == [5, 6]
    assert export.frame["personnummer"].to_list() == ["801213578", "200902130616"]
    assert export.frame["birth_date"].to_list()[1] == "39857"
    assert export.frame["birth_date"].to_list()[0].startswith("2008-01-21")
    assert "Anteckning" in info.mapping.ignored


def test_xlsx_sheet_flag(tmp_path: Path) -> None:
    path = tmp_path / "elever.xlsx"
    _workbook(path)
    assert read_export(path, sheet="2").info.sheet == "Elever"
    with pytest.raises(ConfigError):
        read_export(path, sheet="Saknas")
    with pytest.raises(MissingColumnError):
        read_export(path, sheet="Info")


def test_truncated_xlsx(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    _workbook(good)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputFileError) as err:
        read_export(bad)
    assert err.value.reason == "xlsx_unreadable"
    assert "bad.xlsx" in str(err.value)


def test_xlsx_with_missing_sheet_part(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    _workbook(good)
    bad = tmp_path / "nosheet.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            if "worksheets/sheet2" not in item.filename:
                dst.writestr(item, src.read(item.filename))
    with pytest.raises(MatcherError):
        read_export(bad)


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    pl.DataFrame(
        {
            "Personnummer": [200801212242, 801213578],
            "Förnamn": ["Noah", "Ella"],
            "Födelsedatum": [dt.date(2008, 1, 21), None],
            "Anteckning": ["x", "y"],
        }
    ).write_parquet(path)
    export = read_export(path)
    assert export.info.format == "parquet"
    assert export.frame["row"].to_list() == [2, 3]
    assert export.frame["personnummer"].to_list() == ["200801212242", "801213578"]
    assert export.frame["birth_date"].to_list() == ["2008-01-21", None]
    assert "Anteckning" not in export.frame.columns


def test_empty_workbook(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet("Blad1")
    wb.close()
    with pytest.raises(InputFileError) as err:
        read_export(path)
    assert err.value.reason == "empty_file"


def test_stray_control_character_tolerated_but_many_refused(tmp_path: Path) -> None:
    one = _standard().replace("Hög frånvaro", "Hög\x0bfrånvaro")
    assert read_export(_csv(tmp_path, one)).frame.height == 3
    many = _standard() + "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\n"
    with pytest.raises(InputFileError) as err:
        read_export(_csv(tmp_path, many))
    assert err.value.reason == "binary_content"


@given(
    st.lists(
        st.lists(st.sampled_from(["", " ", "\t ", "x", " y "]), min_size=8, max_size=8),
        min_size=1,
        max_size=12,
    )
)
def test_blank_rows_are_dropped_and_every_other_row_kept(rows: list[list[str]]) -> None:
    """A row counts as data when any cell, mapped or not, has a non-space character."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_text("\n".join([HEADER, *(";".join(r) for r in rows)]) + "\n", encoding="utf-8")
        try:
            export = read_export(path)
        except InputFileError as exc:
            assert exc.reason == "no_rows"
            assert all(not "".join(r).strip() for r in rows)
            return
    kept = [i + 2 for i, r in enumerate(rows) if "".join(r).strip()]
    assert export.frame["row"].to_list() == kept
