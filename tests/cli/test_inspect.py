"""`matcher inspect`: what it shows, that it never prints a cell value, and its exit codes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from matcher_cli.app import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "skola_export.csv"
runner = CliRunner()


def test_inspect_example() -> None:
    result = runner.invoke(app, ["inspect", str(EXAMPLE), "--reference-date", "2026-11-01"])
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in ("cp1252", "';'", "data rows", "20", "Personnummer", "personnummer"):
        assert expected in out
    assert "ignored" in out  # the free-text column
    assert "pnr_checksum" in out
    assert "95.0%" in out  # fill rate of the identity-number column


def test_inspect_prints_no_cell_value() -> None:
    result = runner.invoke(app, ["inspect", str(EXAMPLE), "--reference-date", "2026-11-01"])
    text = EXAMPLE.read_bytes().decode("cp1252")
    values = set()
    for line in text.splitlines()[1:]:
        values |= {cell for cell in line.split(";") if len(cell) >= 4}
    leaked = {v for v in values if v in result.output}
    assert not leaked


def test_inspect_mapping_flags(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("Elevens nummer,Vem\n20080121-2242,Anna\n", encoding="utf-8")
    result = runner.invoke(app, ["inspect", str(path), "--reference-date", "2026-11-01"])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    toml = tmp_path / "map.toml"
    toml.write_text('[columns]\n"Elevens nummer" = "personnummer"\n', encoding="utf-8")
    result = runner.invoke(
        app,
        ["inspect", str(path), "--mapping", str(toml), "--column", "Vem=first_name"],
    )
    assert result.exit_code == 0, result.output
    assert "first_name" in result.output
    assert "Anna" not in result.output


def test_inspect_bad_inputs_exit_cleanly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["inspect", str(empty)])
    assert result.exit_code == 3
    assert "empty" in result.output
    result = runner.invoke(app, ["inspect", str(EXAMPLE), "--separator", "tab"])
    assert result.exit_code == 3
    assert "separator" in result.output
    result = runner.invoke(app, ["inspect", str(EXAMPLE), "--column", "nonsense"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["inspect", str(EXAMPLE), "--reference-date", "1/11"])
    assert result.exit_code == 2


def test_inspect_headers_are_not_markup(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("Personnummer;[bold]Anteckning[/bold]\n20080121-2242;x\n", encoding="utf-8")
    result = runner.invoke(app, ["inspect", str(path), "--reference-date", "2026-11-01"])
    assert result.exit_code == 0, result.output
    assert "[bold]Anteckning[/bold]" in result.output


def _without_record_id(tmp_path: Path) -> Path:
    """The example export with its record-id column (Ärende-ID) dropped."""
    lines = EXAMPLE.read_bytes().decode("cp1252").splitlines()
    kept = [";".join(c for i, c in enumerate(line.split(";")) if i != 6) for line in lines]
    path = tmp_path / "utan_id.csv"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def test_inspect_warns_loudly_without_a_record_id(tmp_path: Path) -> None:
    path = _without_record_id(tmp_path)
    result = runner.invoke(app, ["inspect", str(path), "--reference-date", "2026-11-01"])
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.output and "no record-id column" in result.output
    example = runner.invoke(app, ["inspect", str(EXAMPLE), "--reference-date", "2026-11-01"])
    assert "WARNING" not in example.output
