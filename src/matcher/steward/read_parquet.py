"""Parquet exports: column names are the header; values are cast to text."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from matcher.errors import InputFileError

__all__ = ["read_parquet_grid"]


def read_parquet_grid(path: Path) -> tuple[pl.DataFrame, list[str]]:
    """Parquet → (grid of data rows with ``row``, headers); values cast to text."""
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:
        raise InputFileError(
            "cannot read the Parquet file", file=path, reason="parquet_unreadable"
        ) from exc
    headers = list(frame.columns)
    casts = []
    for i, (name, dtype) in enumerate(frame.schema.items()):
        col = pl.col(name)
        if dtype.is_float():
            expr = (
                pl.when(col == col.round(0))
                .then(col.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(col.cast(pl.String))
            )
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            expr = col.dt.date().cast(pl.String)
        else:
            expr = col.cast(pl.String, strict=False)
        casts.append(expr.alias(f"__col{i}"))
    grid = frame.select(casts).with_row_index("row", offset=2)
    return grid.with_columns(pl.col("row").cast(pl.Int64)), headers
