"""Zero-copy views of Arrow string buffers, so Numba kernels can read polars strings directly."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa


def utf8_buffers(strings: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes and contiguous ``int64`` offsets of a String series (nulls read as empty)."""
    arr = strings.cast(pl.Utf8).fill_null("").rechunk().to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    )
    return data, np.ascontiguousarray(offsets)
