"""Writing the generated exports as agency systems do: CSV or Excel, mappings, truth, manifest."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl

from matcher._files import write_atomic
from matcher.errors import OutputExistsError
from matcher.evaluation.synth_config import SynthData, SynthOutput
from matcher.evaluation.synth_profiles import AgencyProfile

# ---------------------------------------------------------------------------------------------
# Writing


def _check_free(paths: list[Path], overwrite: bool) -> None:
    for path in paths:
        if path.exists() and not overwrite:
            raise OutputExistsError("output file exists; pass --overwrite to replace it", file=path)


def _write_csv(frame: pl.DataFrame, profile: AgencyProfile, path: Path) -> None:
    text = frame.write_csv(separator=profile.delimiter, line_terminator=profile.line_terminator)
    encoding = "utf-8" if profile.file_format == "xlsx" else profile.encoding
    data = text.encode(encoding)
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def _write_xlsx(frame: pl.DataFrame, profile: AgencyProfile, path: Path) -> None:
    """Excel export as agency systems write it: title row, blank row, header, text identities."""
    write_atomic(path, lambda tmp: _fill_xlsx(frame, profile, tmp))


def _fill_xlsx(frame: pl.DataFrame, profile: AgencyProfile, tmp: Path) -> None:
    """Write the workbook of `_write_xlsx` to ``tmp``."""
    import xlsxwriter  # local import: only needed for Excel exports

    workbook = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_numbers": False})
    try:
        sheet = workbook.add_worksheet("Export")
        bold = workbook.add_format({"bold": True})
        date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_string(0, 0, profile.title, bold)
        for col, header in enumerate(frame.columns):
            sheet.write_string(2, col, header, bold)
        date_cols = {
            frame.columns.index(profile.headers[f])
            for f in ("birth_date", "signal_date")
            if f in profile.headers
        }
        for r, row in enumerate(frame.iter_rows(), start=3):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if col in date_cols and len(value) == 10 and value[4] == "-":
                    sheet.write_datetime(r, col, datetime.fromisoformat(value), date_fmt)
                else:
                    sheet.write_string(r, col, value)
    finally:
        workbook.close()


def _mapping_toml(profile: AgencyProfile) -> str:
    """The steward's column mapping file for this agency's export (``matcher hash --mapping``)."""
    lines = [f"# Column mapping for the {profile.name} export ({profile.title})", "[columns]"]
    lines += [f'"{header}" = "{field}"' for field, header in profile.headers.items()]
    return "\n".join(lines) + "\n"


def write_exports(data: SynthData, out_dir: Path, *, overwrite: bool = False) -> SynthOutput:
    """Write each agency's export and column mapping, the truth (Parquet) and a manifest (JSON)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = data.config
    notes: list[str] = []
    plan: dict[str, tuple[Path, AgencyProfile, bool]] = {}
    for name, frame in data.exports.items():
        profile = cfg.profiles[name]
        as_xlsx = profile.file_format == "xlsx" and frame.height <= cfg.xlsx_max_rows
        if profile.file_format == "xlsx" and not as_xlsx:
            notes.append(
                f"{name}: {frame.height} rows exceed xlsx_max_rows={cfg.xlsx_max_rows}; "
                "written as UTF-8 CSV instead of Excel"
            )
        plan[name] = (out_dir / f"{name}.{'xlsx' if as_xlsx else 'csv'}", profile, as_xlsx)
    truth_path = out_dir / "truth.parquet"
    manifest_path = out_dir / "manifest.json"
    mappings = [out_dir / f"{name}.mapping.toml" for name in plan]
    _check_free(
        [p for p, _, _ in plan.values()] + [truth_path, manifest_path, *mappings], overwrite
    )

    manifest: dict[str, object] = {
        "generator": "matcher.synth",
        "seed": cfg.seed,
        "children": cfg.children,
        "reference_date": cfg.reference_date.isoformat(),
        "signal_window": [cfg.signal_from.isoformat(), cfg.signal_to.isoformat()],
        "truth": truth_path.name,
        "agencies": {},
    }
    if cfg.profile != "default":  # the default profile's manifest stays as it was
        manifest["profile"] = cfg.profile
    agencies: dict[str, object] = {}
    for name, (path, profile, as_xlsx) in plan.items():
        frame = data.exports[name]
        if as_xlsx:
            _write_xlsx(frame, profile, path)
        else:
            _write_csv(frame, profile, path)
        mapping_path = out_dir / f"{name}.mapping.toml"
        mapping_path.write_text(_mapping_toml(profile), encoding="utf-8")
        agencies[name] = {
            "file": path.name,
            "mapping": mapping_path.name,
            "format": "xlsx" if as_xlsx else "csv",
            "encoding": None
            if as_xlsx
            else ("utf-8" if profile.file_format == "xlsx" else profile.encoding),
            "delimiter": None if as_xlsx else profile.delimiter,
            "header_row": 3 if as_xlsx else 1,
            "columns": dict(profile.headers),
            "rows": frame.height,
        }
    manifest["agencies"] = agencies
    data.truth.write_parquet(truth_path)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return SynthOutput(
        files={name: p for name, (p, _, _) in plan.items()},
        truth=truth_path,
        manifest=manifest_path,
        rows={name: f.height for name, f in data.exports.items()},
        notes=notes,
    )
