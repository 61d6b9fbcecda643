"""The steward's pipeline: normalised records → hashed file + local map (+ rejects), in chunks.

`hash_records` turns normalised records (``matcher.steward.normalise`` output) into a validated
:class:`~matcher.steward.hashed_file.HashedFile` and the local map (``ref``, ``record_id``,
``row``); `hash_runs` yields the same rows run by run. `hash_export` runs the whole steward side
from an export file to the three output files, each written atomically (temporary file + rename),
never over an existing file unless asked, and never touching the input: the map and rejects are
written while the records are hashed, and each run of the hashed file while the next is hashed. Runs
are hashed side by side, one per core; a progress callback receives ``(rows done, rows total)``
after each.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from matcher import __version__
from matcher._files import commit, stage, write_atomic
from matcher._numba_config import sequential_kernels
from matcher.errors import ConfigError, InputFileError, OutputExistsError
from matcher.steward.encodings import BloomEncoder
from matcher.steward.exports import read_export
from matcher.steward.fields import FieldEncoder
from matcher.steward.hashed_file import (
    HASHED_SCHEMA,
    EncodingParams,
    HashedFile,
    HashedFileHeader,
    HashedFileWriter,
    ListKind,
)
from matcher.steward.keys import RoundKeys
from matcher.steward.normalise import normalise_export
from matcher.steward.rejects import Action, write_rejects
from matcher.steward.tokens import (
    TOKEN_KINDS,
    NameWords,
    compute_tokens,
    date_words,
    identity_numbers,
    name_columns,
)

__all__ = [
    "CHUNK_ROWS",
    "RECORD_SCHEMA",
    "HashSummary",
    "Progress",
    "file_order",
    "hash_export",
    "hash_records",
    "hash_runs",
    "new_refs",
]

CHUNK_ROWS = 100_000
REF_BYTES = 8
#: Columns `hash_records` needs (matcher.steward.normalise's output contract).
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "record_id": pl.Utf8(),
    "pnr": pl.Utf8(),
    "pnr_kind": pl.Utf8(),
    "given_names": pl.List(pl.Utf8()),
    "surnames": pl.List(pl.Utf8()),
    "birth_date": pl.Date(),
    "signal": pl.Utf8(),
    "signal_date": pl.Date(),
}
MAP_SCHEMA: dict[str, pl.DataType] = {"ref": pl.Utf8(), "record_id": pl.Utf8(), "row": pl.Int64()}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class HashSummary:
    """What `hash_export` did: counts (never values), the key check value and the time taken."""

    rows_read: int
    rows_hashed: int
    rejected: dict[str, int] = field(default_factory=dict)
    fields_ignored: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    key_check: str = ""
    reference_date: date | None = None
    rows_with_id: int = 0


def new_refs(n: int) -> pl.Series:
    """``n`` unique random opaque record references (16 hex characters from os.urandom)."""
    while True:
        raw = os.urandom(REF_BYTES * n)
        ordered = np.sort(np.frombuffer(raw, dtype=np.uint64))
        if not (ordered[1:] == ordered[:-1]).any():
            break
    arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(REF_BYTES), n, [None, pa.py_buffer(raw)])
    return pl.Series("ref", arr.cast(pa.large_binary()), dtype=pl.Binary).bin.encode("hex")


def file_order(run: pl.DataFrame) -> pl.DataFrame:
    """A run's rows in the order the hashed file holds them: by their random ref, so the
    export's row order cannot link one round's file to the next (issue 12, attack 6); the local
    map, not the row order, joins refs to records."""
    return run.sort("ref")


def _check_records(records: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in RECORD_SCHEMA if c not in records.columns]
    if missing:
        raise ConfigError(f"records lack the columns {missing}", reason="record_schema")
    try:
        return records.select(list(RECORD_SCHEMA)).cast(RECORD_SCHEMA)  # type: ignore[arg-type]
    except pl.exceptions.PolarsError as exc:
        raise ConfigError("records have columns of the wrong type", reason="record_schema") from exc


def hash_records(
    records: pl.DataFrame,
    *,
    secret: bytes,
    round_id: str,
    agency: str,
    params: EncodingParams | None = None,
    reference_date: date | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    list_kind: ListKind = "signals",
) -> tuple[HashedFile, pl.DataFrame]:
    """Hash normalised records: the hashed file (header + frame) and the local map frame."""
    header, runs = hash_runs(
        records,
        secret=secret,
        round_id=round_id,
        agency=agency,
        params=params,
        reference_date=reference_date,
        chunk_rows=chunk_rows,
        progress=progress,
        list_kind=list_kind,
    )
    parts = list(runs)
    frame = (
        pl.concat(parts).cast(HASHED_SCHEMA)  # type: ignore[arg-type]
        if parts
        else pl.DataFrame(schema=HASHED_SCHEMA)
    )
    return HashedFile(header=header, frame=frame), _local_map(frame["ref"], records)


def _local_map(refs: pl.Series, records: pl.DataFrame) -> pl.DataFrame:
    """The local map: ref → the agency's record id and input row."""
    return pl.DataFrame([refs, records["record_id"], records["row"]]).cast(MAP_SCHEMA)  # type: ignore[arg-type]


def hash_runs(
    records: pl.DataFrame,
    *,
    secret: bytes,
    round_id: str,
    agency: str,
    params: EncodingParams | None = None,
    reference_date: date | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    refs: pl.Series | None = None,
    list_kind: ListKind = "signals",
) -> tuple[HashedFileHeader, Iterator[pl.DataFrame]]:
    """The hashed file's header and its rows, run by run in record order: ``chunk_rows`` records
    a run, hashed side by side (one run per core) while the caller consumes earlier ones.

    Inputs are checked here, before the first run; ``refs`` (from `new_refs`, one per record)
    lets a caller write the local map while the records are hashed.
    """
    records = _check_records(records)
    if not agency or len(agency) > 100 or not agency.isprintable():
        raise ConfigError("the agency label must be 1 to 100 printable characters", reason="agency")
    chunk_rows = max(chunk_rows, 1)
    params = params if params is not None else EncodingParams()
    keys = RoundKeys.derive(secret, round_id)
    header = HashedFileHeader(
        round_id=round_id,
        agency=agency,
        key_check=keys.key_check,
        row_count=records.height,
        token_kinds=list(TOKEN_KINDS),
        reference_date=reference_date,
        encoding=params,
        matcher_version=__version__,
        list_kind=list_kind,
    )
    encoder = BloomEncoder(keys, params)
    fields = FieldEncoder(keys)
    words = NameWords(keys)
    run_refs = new_refs(records.height) if refs is None else refs
    if run_refs.len() != records.height:
        raise ConfigError("one ref per record is needed", reason="refs")

    def hash_chunk(start: int) -> pl.DataFrame:
        chunk = records.slice(start, chunk_rows)
        end = start + chunk.height
        names, dates = all_names.rows(start, end), all_dates[start:end]
        tokens = compute_tokens(chunk, keys, names=names, words=words, dates=dates)
        tokens = tokens.with_columns(
            pl.concat_list("block_tokens", fields.sound_blocks(names)).alias("block_tokens")
        )
        return pl.DataFrame(
            [
                run_refs.slice(start, chunk.height),
                pl.repeat(agency, chunk.height, dtype=pl.Utf8, eager=True).alias("agency"),
                chunk["signal"],
                chunk["signal_date"],
                *tokens.get_columns(),
                encoder.encode(names, dates),
                *fields.encode(names, dates, identity_numbers(chunk)[1]).get_columns(),
            ]
        )

    def runs() -> Iterator[pl.DataFrame]:
        total = records.height
        starts = range(0, total, chunk_rows)
        if progress is not None:
            progress(0, total)
        done = 0
        with ThreadPoolExecutor(max_workers=_workers(len(starts))) as pool:
            for part in pool.map(_sequential_if_pooled(hash_chunk, len(starts)), starts):
                done += part.height
                if progress is not None:
                    progress(done, total)
                yield part

    all_names = name_columns(records)  # each distinct name folded once for the whole run
    all_dates = date_words(records["birth_date"])
    words.words(all_names.names)  # computed once here, before the runs share it
    return header, runs()


def _workers(chunks: int) -> int:
    """Chunks hashed side by side: one per core (at most 2 in flight per core is no faster)."""
    return max(1, min(chunks, os.cpu_count() or 1))


def _sequential_if_pooled(
    work: Callable[[int], pl.DataFrame], chunks: int
) -> Callable[[int], pl.DataFrame]:
    """``work`` with sequential kernels when several chunks run at once (one thread each; the
    kernels release the GIL), else as it is (one chunk: the kernels use every core)."""
    if _workers(chunks) == 1:
        return work

    def sequential(start: int) -> pl.DataFrame:
        with sequential_kernels():
            return work(start)

    return sequential


def _warm_kernels() -> None:
    """Hash one made-up record under a throwaway key, nothing kept: a fresh process spends ~0.4 s
    setting Numba up and loading its cached kernels, which `hash_export` overlaps with reading."""
    record = pl.DataFrame(
        {
            "row": [2],
            "record_id": ["warm-up"],
            "pnr": ["200001011234"],
            "pnr_kind": ["personnummer"],
            "given_names": [["anna"]],
            "surnames": [["berg"]],
            "birth_date": [date(2000, 1, 1)],
            "signal": ["warm-up"],
            "signal_date": [date(2000, 1, 1)],
        },
        schema=RECORD_SCHEMA,
    )
    hash_records(record, secret=os.urandom(32), round_id="warm-up", agency="warm-up")


def _check_outputs(input_path: Path, outputs: Mapping[str, Path], overwrite: bool) -> None:
    resolved = {name: p.resolve() for name, p in outputs.items()}
    if len(set(resolved.values())) != len(resolved):
        raise ConfigError("the hashed file, map and rejects must be three different files")
    for name, p in resolved.items():
        if p == input_path.resolve():
            raise ConfigError(f"the {name} output would replace the input file", file=p)
        if p.exists() and not overwrite:
            raise OutputExistsError(f"{name} output exists; pass --overwrite to replace it", file=p)
        if not p.parent.is_dir():
            raise ConfigError(f"the folder for the {name} output does not exist", file=p)


def hash_export(
    input_path: Path | str,
    *,
    secret: bytes,
    round_id: str,
    agency: str,
    out: Path | str,
    map_path: Path | str,
    rejects_path: Path | str,
    reference_date: date,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    separator: str | None = None,
    sheet: str | None = None,
    params: EncodingParams | None = None,
    overwrite: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    list_kind: ListKind = "signals",
) -> HashSummary:
    """Read, normalise and hash an export; write the hashed file, the local map and the rejects."""
    started = time.perf_counter()
    input_path = Path(input_path)
    outputs = {"hashed": Path(out), "map": Path(map_path), "rejects": Path(rejects_path)}
    _check_outputs(input_path, outputs, overwrite)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # polars releases the GIL while it reads and normalises; Numba's set-up runs meanwhile
        warm = pool.submit(_warm_kernels)
        export = read_export(
            input_path, encoding=encoding, separator=separator, sheet=sheet, columns=columns
        )
        normalised = normalise_export(
            export.frame,
            reference_date=reference_date,
            source=input_path.name,
            headers=export.info.mapping.fields,
        )
        warm.result()
    records = normalised.records
    rejects = pl.concat([export.rejects, normalised.rejects], how="vertical_relaxed")
    if records.height == 0:
        write_atomic(outputs["rejects"], lambda p: write_rejects(rejects, p))
        raise InputFileError(
            "no usable rows: every row was rejected (see the rejects file)",
            file=input_path,
            reason="no_rows",
        )
    refs = new_refs(records.height)
    local_map = _local_map(refs, records)

    def stage_map_and_rejects() -> list[tuple[Path, Path]]:
        # lz4: a third of zstd's time on the random refs, for a local file about twice the size
        staged = [stage(outputs["map"], lambda p: local_map.write_parquet(p, compression="lz4"))]
        try:
            staged.append(stage(outputs["rejects"], lambda p: write_rejects(rejects, p)))
        except BaseException:
            staged[0].unlink(missing_ok=True)
            raise
        return list(zip(staged, (outputs["map"], outputs["rejects"]), strict=True))

    # The map and the rejects are written to temporary files while the records are hashed and
    # the hashed file is written run by run; all three are renamed into place at the end.
    with_id = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        side = pool.submit(stage_map_and_rejects)
        try:
            header, runs = hash_runs(
                records,
                secret=secret,
                round_id=round_id,
                agency=agency,
                params=params,
                reference_date=reference_date,
                chunk_rows=chunk_rows,
                progress=progress,
                refs=refs,
                list_kind=list_kind,
            )
            writer = HashedFileWriter(outputs["hashed"], header, overwrite=overwrite)
            with writer:
                for run in runs:
                    writer.write(file_order(run))
                    with_id += int(run["id_token"].is_not_null().sum())
                staged = side.result()  # before the hashed file is renamed into place
        except BaseException:
            _discard(side)
            raise
    for tmp, final in staged:
        commit(tmp, final)
    return HashSummary(
        rows_read=export.info.n_rows + export.rejects["row"].n_unique(),
        rows_hashed=records.height,
        rejected=_count(rejects, Action.ROW_REJECTED),
        fields_ignored=_count(rejects, Action.FIELD_IGNORED),
        warnings=_count(rejects, Action.WARNING),
        seconds=time.perf_counter() - started,
        key_check=header.key_check,
        reference_date=reference_date,
        rows_with_id=with_id,
    )


def _discard(staging: Future[list[tuple[Path, Path]]]) -> None:
    """Remove the temporary files of a staging job (after it ends) that will not be committed."""
    if staging.exception() is None:
        for tmp, _ in staging.result():
            tmp.unlink(missing_ok=True)


def _count(rejects: pl.DataFrame, action: str) -> dict[str, int]:
    """Rows per reason for one action, largest first."""
    chosen = rejects.filter(pl.col("action") == action)
    if chosen.height == 0:
        return {}
    counts = chosen.group_by("reason").agg(pl.col("row").n_unique()).sort("row", descending=True)
    return dict(zip(counts["reason"].to_list(), counts["row"].to_list(), strict=True))
