"""Re-identification, on the agency's own machine: downloaded view + local map → meeting list.

The last stage of the data flow. The service only ever sees refs; here the agency's view (its
own refs per case, the other agencies, and where the round shows it, their signal categories and
each case's coarse strength) is joined with the local map that `matcher hash` wrote (ref → record
id and row), and optionally with the agency's own export (row → the child's name, identity number
and birth date as the agency wrote them), so the steward can bring a readable list to the
meeting. Nothing here touches the network: the caller downloads the view first, and the identity
columns exist only in the returned frame and the local file written from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from matcher._files import write_atomic
from matcher.disclosure import DisclosurePolicy
from matcher.errors import ConfigError, InputFileError, MissingColumnError
from matcher.steward.hashing import MAP_SCHEMA

__all__ = [
    "MEETING_HEADERS",
    "STRENGTH_LABELS",
    "export_identities",
    "meeting_list",
    "read_map",
    "view_rows",
    "write_meeting_list",
]

#: The meeting list's columns as the steward reads them (Swedish), in output order.
MEETING_HEADERS: dict[str, str] = {
    "case_id": "Fall",
    "strength": "Styrka",
    "record_id": "Ert ärende-id",
    "row": "Rad i exporten",
    "name": "Namn",
    "personnummer": "Personnummer",
    "birth_date": "Födelsedatum",
    "signal": "Er signal",
    "signal_date": "Signaldatum",
    "other_agencies": "Andra verksamheter",
    "other_signals": "Deras signaler",
}
#: The view's coarse case strength levels, as shown on the meeting list (others pass through).
STRENGTH_LABELS: dict[str, str] = {
    "identity number": "personnummer",
    "names and birth date": "namn och födelsedatum",
    "probable": "trolig: bekräfta på mötet",
}
_IDENTITY_COLUMNS = ("name", "personnummer", "birth_date")
_VIEW_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Utf8(),
    "strength": pl.Utf8(),
    "ref": pl.Utf8(),
    "signal": pl.Utf8(),
    "signal_date": pl.Utf8(),
    "other_agencies": pl.Utf8(),
    "other_signals": pl.Utf8(),
}
# Excel column widths in characters: at least the header, at most this.
_MAX_WIDTH = 60
# A CSV cell starting with one of these is a formula when Excel opens the file (the .xlsx writer
# stores every string as a string).
_FORMULA_STARTS = ("=", "+", "@", "-", "\t", "\r")


def read_map(path: str | Path) -> pl.DataFrame:
    """The steward's local map (Parquet) checked against `MAP_SCHEMA` (ref, record_id, row)."""
    path = Path(path)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:
        raise InputFileError("cannot read the local map (Parquet expected)", file=path) from exc
    for column in MAP_SCHEMA:
        if column not in frame.columns:
            raise MissingColumnError("the local map lacks a column", file=path, column=column)
    try:
        return frame.select(list(MAP_SCHEMA)).cast(pl.Schema(MAP_SCHEMA))
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(
            "the local map's columns have the wrong types", file=path, reason="map_schema"
        ) from exc


def view_rows(view: Mapping[str, Any]) -> pl.DataFrame:
    """One row per own record in a case, with the other agencies (and categories if shown) and
    the case's strength when the view carries one."""
    rows = []
    for case in view["cases"]:
        others = case["others"]
        agencies = ", ".join(o["agency"] for o in others)
        signals = "; ".join(
            f"{o['agency']}: {', '.join(o['signals'])}" for o in others if o.get("signals")
        )
        for record in case["records"]:
            rows.append(
                {
                    "case_id": case["case_id"],
                    "strength": case.get("strength"),
                    "ref": record["ref"],
                    "signal": record.get("signal"),
                    "signal_date": record.get("signal_date"),
                    "other_agencies": agencies,
                    "other_signals": signals or None,
                }
            )
    return pl.DataFrame(rows, schema=_VIEW_SCHEMA)


def export_identities(export_frame: pl.DataFrame) -> pl.DataFrame:
    """Per export row: the child's name, identity number and birth date as the agency wrote them
    (trimmed; a full name as is, else given names and surname joined), from `read_export`'s
    frame. Kept local: only the meeting list is made from it."""
    present = set(export_frame.columns)

    def cell(name: str) -> pl.Expr:
        if name not in present:
            return pl.lit(None, dtype=pl.Utf8)
        value = pl.col(name).cast(pl.Utf8).str.strip_chars()
        return pl.when(value == "").then(None).otherwise(value)

    parts = pl.concat_str([cell("first_name"), cell("last_name")], separator=" ", ignore_nulls=True)
    name = pl.coalesce(cell("full_name"), pl.when(parts != "").then(parts))
    return export_frame.select(
        pl.col("row").cast(pl.Int64),
        name.alias("name"),
        cell("personnummer").alias("personnummer"),
        cell("birth_date").alias("birth_date"),
    )


def _join_identities(
    joined: pl.DataFrame, export_frame: pl.DataFrame, *, file: str | Path | None
) -> pl.DataFrame:
    """The meeting rows with the identity columns joined by export row; refuses an export that
    is not the file hashed for this map (a row missing, or another record id on a row)."""
    identities = export_identities(export_frame)
    with_ids = joined.join(identities, on="row", how="left")
    found = joined.join(identities.select("row"), on="row", how="semi").height
    if found != joined.height:
        raise ConfigError(
            f"{joined.height - found} rows of the meeting list are not in the export; use the "
            "export that was hashed for this round",
            file=file,
            reason="export_mismatch",
        )
    if "record_id" in export_frame.columns:
        own = export_frame.select(
            pl.col("row").cast(pl.Int64), pl.col("record_id").str.strip_chars().alias("own")
        )
        check = joined.select("row", "record_id").join(own, on="row", how="left")
        # The map holds the row number as text where the record-id cell was empty or dropped.
        compared = check.filter(
            pl.col("own").is_not_null()
            & (pl.col("own") != "")
            & (pl.col("record_id") != pl.col("row").cast(pl.Utf8))
        )
        differing = compared.filter(pl.col("own") != pl.col("record_id")).height
        if differing:
            raise ConfigError(
                f"{differing} rows of the export hold another record id than the map; use the "
                "export that was hashed for this round",
                file=file,
                reason="export_mismatch",
            )
    return with_ids


def meeting_list(
    view: Mapping[str, Any],
    local_map: pl.DataFrame,
    policy: DisclosurePolicy | str,
    *,
    export_frame: pl.DataFrame | None = None,
    export_file: str | Path | None = None,
) -> pl.DataFrame:
    """Join the downloaded view with the local map (case id → this agency's own record ids and
    rows) and, given ``export_frame`` (`read_export`'s frame of the hashed file), the child's name,
    identity number and birth date. ``strength`` only when the view has it; ``other_signals`` only
    under `DisclosurePolicy.AGENCIES_AND_CATEGORIES`."""
    rows = view_rows(view)
    joined = rows.join(local_map.select(list(MAP_SCHEMA)), on="ref", how="left")
    missing = joined["record_id"].null_count()
    if missing:
        raise ConfigError(
            f"{missing} refs in the results are not in the map; use the map written when this "
            "round's file was hashed",
            reason="map_mismatch",
        )
    columns: list[str] = ["case_id"]
    if joined["strength"].is_not_null().any():
        columns.append("strength")
    columns += ["record_id", "row"]
    if export_frame is not None:
        joined = _join_identities(joined, export_frame, file=export_file)
        columns += _IDENTITY_COLUMNS
    columns += ["signal", "signal_date", "other_agencies"]
    if DisclosurePolicy(policy) is DisclosurePolicy.AGENCIES_AND_CATEGORIES:
        columns.append("other_signals")
    return joined.select(columns).sort(["case_id", "row"])


def _for_reading(frame: pl.DataFrame) -> pl.DataFrame:
    """The meeting list with Swedish headers and strength levels in words."""
    if "strength" in frame.columns:
        frame = frame.with_columns(pl.col("strength").replace(STRENGTH_LABELS))
    return frame.rename({c: MEETING_HEADERS.get(c, c) for c in frame.columns})


def _widths(frame: pl.DataFrame) -> dict[str, int]:
    """Excel column widths in pixels: the longest of header and cells, capped (long signal lists
    wrap instead of stretching the sheet)."""
    widths = {}
    for name in frame.columns:
        longest = frame[name].cast(pl.Utf8).str.len_chars().max()
        chars = max(len(name), int(longest) if isinstance(longest, int) else 0)
        widths[name] = 8 * min(chars + 2, _MAX_WIDTH) + 6
    return widths


def _inert(name: str) -> pl.Expr:
    """A text column with a leading ``'`` on cells Excel would run as a formula (a name cell
    such as ``=HYPERLINK(...)`` in the agency's own export must not become one)."""
    value = pl.col(name)
    risky = pl.any_horizontal(value.str.starts_with(start) for start in _FORMULA_STARTS)
    return pl.when(risky).then(pl.concat_str(pl.lit("'"), value)).otherwise(value).alias(name)


def write_meeting_list(frame: pl.DataFrame, out: str | Path) -> None:
    """Write the meeting list atomically with Swedish headers: .xlsx (bold frozen header, filter,
    column widths to fit) for the meeting, or CSV (UTF-8 with BOM, for Excel)."""
    out = Path(out)
    shown = _for_reading(frame)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        long_text = {
            MEETING_HEADERS[c]: {"text_wrap": True, "valign": "top"}
            for c in ("other_agencies", "other_signals", "signal")
            if MEETING_HEADERS[c] in shown.columns
        }
        write_atomic(
            out,
            lambda tmp: shown.write_excel(
                tmp,
                worksheet="Möteslista",
                column_widths=_widths(shown),  # type: ignore[arg-type]
                column_formats=long_text or None,  # type: ignore[arg-type]
                header_format={"bold": True, "bg_color": "#DDEBF7", "border": 1},
                freeze_panes=(1, 0),
                autofilter=True,
                include_header=True,
            ),
        )
    elif suffix == ".csv":
        safe = shown.with_columns(_inert(name) for name, t in shown.schema.items() if t == pl.Utf8)
        write_atomic(out, lambda tmp: safe.write_csv(tmp, include_bom=True))
    else:
        raise ConfigError("--out must end in .csv or .xlsx", reason="out_format")
