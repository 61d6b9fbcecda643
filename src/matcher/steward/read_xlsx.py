"""Excel .xlsx exports (through fastexcel): sheet choice, title rows skipped, sheet row numbers.

The sheet with a recognised header is chosen (or ``sheet``); date cells arrive as ISO text and
numeric cells as digits without ``.0`` (a personnummer stored as a number shows up with its
leading zero lost; `matcher.steward.identifiers` recognises and reports that). Rows carry the
sheet's own row numbers, so the rejects report points at the row the steward sees.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from matcher.errors import ConfigError, InputFileError, MatcherWarning
from matcher.steward.headers import HEADER_SCAN_ROWS, find_header, recognised

__all__ = ["read_xlsx_grid", "xlsx_first_row"]


def _local(name: str) -> str:
    """An XML tag or attribute name without its ``{namespace}``."""
    return name.rsplit("}", 1)[-1]


def _xlsx_sheet_paths(zf: zipfile.ZipFile) -> list[str]:
    """Worksheet XML paths in workbook order (workbook.xml's sheets through its relationships)."""
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {
        el.get("Id"): el.get("Target", "") for el in rels.iter() if _local(el.tag) == "Relationship"
    }
    paths = []
    for el in ElementTree.fromstring(zf.read("xl/workbook.xml")).iter():
        if _local(el.tag) != "sheet":
            continue
        rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
        target = (targets.get(rid) or "").lstrip("/")
        paths.append(target if target.startswith("xl/") else f"xl/{target}")
    return paths


def xlsx_first_row(path: Path, sheet_index: int) -> int | None:
    """The 1-based row number of the first row holding a value (where fastexcel starts), read
    with a streaming XML parser up to that row; None when the sheet's XML cannot tell."""
    try:
        with zipfile.ZipFile(path) as zf:
            sheet_path = _xlsx_sheet_paths(zf)[sheet_index]
            with zf.open(sheet_path) as fh:
                number = 0
                for event, el in ElementTree.iterparse(fh, events=("start", "end")):
                    name = _local(el.tag)
                    if event == "start" and name == "row":
                        r = el.get("r")
                        number = int(r) if r is not None and r.isdigit() else number + 1
                    elif event == "end" and name in ("v", "is") and number:
                        return number
                    elif event == "end" and name == "row":
                        el.clear()  # rows already passed: keep the memory flat
    except (KeyError, IndexError, OSError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    return None


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
    first = xlsx_first_row(path, idx)
    if first is None:
        warnings.warn(
            MatcherWarning(
                "cannot tell from the sheet where its rows start: row numbers in the rejects "
                "report and in the local map are counted from row 1 and may be off",
                file=path,
                reason="xlsx_row_numbers",
            ),
            stacklevel=2,
        )
        first = 1
    headers = ["" if v is None else str(v).strip() for v in grid.row(h)]
    grid = grid.rename({c: f"__col{i}" for i, c in enumerate(grid.columns)})
    grid = grid.with_row_index("row", offset=first).with_columns(pl.col("row").cast(pl.Int64))
    return grid.slice(h + 1), headers, first + h, names[idx], names
