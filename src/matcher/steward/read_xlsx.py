"""Excel .xlsx exports (through fastexcel): sheet choice, title rows skipped, sheet row numbers.

The sheet with a recognised header is chosen (or ``sheet``); date cells arrive as ISO text and
numeric cells as digits without ``.0`` (a personnummer stored as a number shows up with its
leading zero lost; `matcher.steward.identifiers` recognises and reports that). Rows carry the
sheet's own row numbers, so the rejects report points at the row the steward sees.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from matcher.errors import ConfigError, InputFileError
from matcher.steward.headers import HEADER_SCAN_ROWS, find_header, recognised

__all__ = ["read_xlsx_grid"]


def _xlsx_sheet_paths(zf: zipfile.ZipFile) -> list[str]:
    """Worksheet XML paths in workbook order."""
    workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = {}
    for m in re.finditer(r"<(?:\w+:)?Relationship\b([^>]*)>", rels):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        targets[attrs.get("Id")] = attrs.get("Target", "")
    paths = []
    for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)>", workbook):
        rid = re.search(r'\br:id="([^"]*)"|\bid="([^"]*)"', m.group(1))
        target = targets.get(rid.group(1) or rid.group(2)) if rid else None
        target = (target or "").lstrip("/")
        paths.append(target if target.startswith("xl/") else f"xl/{target}")
    return paths


def _xlsx_first_row(path: Path, sheet_index: int) -> int:
    """The 1-based row number of the first row holding a value (where fastexcel starts)."""
    try:
        with zipfile.ZipFile(path) as zf:
            sheet_path = _xlsx_sheet_paths(zf)[sheet_index]
            with zf.open(sheet_path) as fh:
                head = fh.read(1 << 22).decode("utf-8", "replace")
    except (KeyError, IndexError, OSError, zipfile.BadZipFile):
        return 1
    number = 0
    row_re = r"<(?:\w+:)?row\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)"
    for m in re.finditer(row_re, head, re.S):
        r = re.search(r'\br="(\d+)"', m.group(1))
        number = int(r.group(1)) if r else number + 1
        if m.group(2) and re.search(r"<(?:\w+:)?(?:v|is)\b", m.group(2)):
            return number
    return 1


def read_xlsx_grid(
    path: Path, *, sheet: str | None, overrides: Mapping[str, str]
) -> tuple[pl.DataFrame, list[str], int, str, tuple[str, ...]]:
    """Excel → (grid of data rows with ``row``, headers, header row, sheet name, sheet names)."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        names = tuple(reader.sheet_names)
        if sheet is not None:
            if sheet in names:
                chosen = [names.index(sheet)]
            elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
                chosen = [int(sheet) - 1]
            else:
                raise ConfigError(
                    f"no sheet {sheet!r}; the workbook has {list(names)}",
                    file=path,
                    reason="sheet",
                )
        else:
            chosen = list(range(len(names)))
        best: tuple[int, int, int] | None = None
        for idx in chosen:
            head = reader.load_sheet(
                idx, header_row=None, dtypes="string", n_rows=HEADER_SCAN_ROWS
            ).to_polars()
            if head.width == 0 or head.height == 0:
                continue
            rows = head.rows()
            h = find_header(rows, overrides)
            score = recognised(rows[h], overrides)
            if best is None or score > best[0]:
                best = (score, idx, h)
        if best is None:
            raise InputFileError("the workbook has no data", file=path, reason="empty_file")
        _, idx, h = best
        grid = reader.load_sheet(idx, header_row=None, dtypes="string").to_polars()
    except (ConfigError, InputFileError):
        raise
    except Exception as exc:  # fastexcel raises its own tree; any of them means unreadable
        raise InputFileError(
            "cannot read the Excel file (damaged, truncated or password-protected?)",
            file=path,
            reason="xlsx_unreadable",
        ) from exc
    first = _xlsx_first_row(path, idx)
    headers = ["" if v is None else str(v).strip() for v in grid.row(h)]
    grid = grid.rename({c: f"__col{i}" for i, c in enumerate(grid.columns)})
    grid = grid.with_row_index("row", offset=first).with_columns(pl.col("row").cast(pl.Int64))
    return grid.slice(h + 1), headers, first + h, names[idx], names
