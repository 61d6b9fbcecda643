"""No raw identifier ever reaches a hashed file: generate records, hash them, scan the bytes.

Each personnummer, birth date, name and record id is searched in several renderings (canonical
and 10-digit forms, with and without dash, ISO and compact dates, names as written, capitalised,
upper-case, ASCII-folded and as sound keys, and the identity number as a binary integer), and so
are unkeyed digests of them (SHA-256, SHA-1, MD5, BLAKE2b): the file must hold only keyed values.
Values shorter than five bytes are not searched (they occur by chance in any binary file), and
neither are values that also occur in an empty hashed file with the same header (column names,
header fields), or in the rejects report's fixed vocabulary (its header, reason codes).
"""

from __future__ import annotations

import hashlib
import io
import struct
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from hypothesis import assume, given
from hypothesis import strategies as st

from matcher.steward.hashed_file import empty_frame, read_hashed, to_bytes
from matcher.steward.hashing import hash_export, hash_records
from matcher.steward.names import fold
from matcher.steward.rejects import Action, Reason
from matcher.steward.sounds import sound_key
from tests.strategies import normalised_records

SECRET = bytes(range(32))
FIXED = datetime(2026, 1, 1, tzinfo=UTC)
NOT_IDENTIFIERS = ("skola", "frånvaro", "orosanmälan", "round-1")


def _renderings(records: pl.DataFrame) -> set[bytes]:
    """Every raw identifier of ``records`` in the renderings the file must never contain."""
    texts: set[str] = set()
    binary: set[bytes] = set()
    for row in records.iter_rows(named=True):
        pnr = row["pnr"]
        if pnr:
            texts |= {pnr, pnr[2:], f"{pnr[:8]}-{pnr[8:]}", f"{pnr[2:8]}-{pnr[8:]}"}
            binary |= {struct.pack("<Q", int(pnr)), struct.pack(">Q", int(pnr))}
        born = row["birth_date"]
        if born:
            texts |= {born.isoformat(), born.strftime("%Y%m%d"), born.strftime("%y%m%d")}
        names = [*row["given_names"], *row["surnames"]]
        if row["surnames"]:
            names += [" ".join(row["surnames"]), "-".join(row["surnames"])]
        for name in names:
            texts |= {name, name.capitalize(), name.upper(), fold(name) or ""}
            texts.add(sound_key(fold(name) or ""))  # the field-level sound key, never in clear
        texts.add(row["record_id"])
    digests: set[bytes] = set()
    for text in texts:
        for algo in ("sha256", "sha1", "md5", "blake2b"):
            digest = hashlib.new(algo, text.encode()).digest()
            digests |= {digest[:8], digest[-8:]}
    encoded = {t.encode("utf-8") for t in texts} | {t.encode("utf-16-le") for t in texts}
    return {b for b in encoded | binary | digests if len(b) >= 5}


def _plain(blob: bytes) -> bytes:
    """A Parquet file re-written without compression or dictionaries, so every value is visible.

    The file as written compresses some columns; a value inside a compressed page would escape a
    byte scan, so the scan also looks at this decoded form (the header metadata included).
    """
    table = pq.read_table(io.BytesIO(blob))
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="none", use_dictionary=False)
    return sink.getvalue()


def _scan(blob: bytes, control: bytes, records: pl.DataFrame, allowed: bytes = b"") -> None:
    """Assert no rendering of ``records`` is in ``blob`` unless it is also in the control bytes."""
    views = [blob]
    if blob.startswith(b"PAR1"):
        views.append(_plain(blob))
        control = control + (_plain(control) if control.startswith(b"PAR1") else b"")
    control += allowed
    for value in _renderings(records):
        if value in control or any(value in s.encode() for s in NOT_IDENTIFIERS):
            continue
        for view in views:
            assert value not in view, "a raw identifier (or its unkeyed hash) is in the file"


@given(normalised_records(min_rows=1, max_rows=10, min_name=5, min_id=6))
def test_no_raw_identifier_in_hashed_file_bytes(records: pl.DataFrame) -> None:
    hashed, _ = hash_records(records, secret=SECRET, round_id="round-1", agency="skola")
    header = hashed.header.model_copy(update={"created_at": FIXED})
    blob = to_bytes(header, hashed.frame)
    control = to_bytes(header.model_copy(update={"row_count": 0}), empty_frame())
    _scan(blob, control, records)


def _csv(records: pl.DataFrame) -> str:
    lines = ["Ärende-ID;Personnummer;Förnamn;Efternamn;Födelsedatum;Signal"]
    for row in records.iter_rows(named=True):
        born = row["birth_date"].isoformat() if row["birth_date"] else ""
        given = " ".join(n.capitalize() for n in row["given_names"])
        surname = "-".join(n.capitalize() for n in row["surnames"])
        signal = row["signal"] or ""
        lines.append(f"{row['record_id']};{row['pnr'] or ''};{given};{surname};{born};{signal}")
    return "\n".join(lines) + "\n"


@given(
    normalised_records(min_rows=1, max_rows=6, min_name=5, min_id=6),
    st.sampled_from(["", "x" * 5]),
)
def test_no_raw_identifier_in_any_steward_output_but_the_map(records, junk) -> None:
    """The hashed file and the rejects report of a real export hold no identifier either."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = folder / "export.csv"
        src.write_text(_csv(records) + junk, encoding="utf-8")
        out, rejects = folder / "h.parquet", folder / "r.csv"
        try:
            hash_export(
                src,
                secret=SECRET,
                round_id="round-1",
                agency="skola",
                out=out,
                map_path=folder / "m.parquet",
                rejects_path=rejects,
                reference_date=FIXED.date(),
            )
        except Exception as exc:  # every failure must also keep values out of its message
            _scan(str(exc).encode(), b"", records)
            return
        hashed_bytes = out.read_bytes()
        header = read_hashed(out).header.model_copy(update={"row_count": 0})
        control = to_bytes(header, empty_frame())
        _scan(hashed_bytes, control, records, allowed=b"export.csv")
        vocabulary = ",".join(["file,row,column,reason,action,export.csv", *Reason, *Action])
        _scan(rejects.read_bytes(), vocabulary.encode(), records)


@given(normalised_records(min_rows=1, max_rows=4, min_name=5, min_id=6), st.data())
def test_the_scan_finds_a_planted_identifier(records: pl.DataFrame, data: st.DataObject) -> None:
    """The scanner itself works: an identifier copied into the signal column is caught."""
    hashed, _ = hash_records(records, secret=SECRET, round_id="round-1", agency="skola")
    # Records that cannot link are not hashed; with none left there is no row to plant into.
    assume(hashed.frame.height > 0)
    row = data.draw(st.integers(0, records.height - 1))
    leaked = records["record_id"][row]
    frame = hashed.frame.with_columns(signal=pl.lit(leaked))
    header = hashed.header.model_copy(update={"created_at": FIXED})
    control = to_bytes(header.model_copy(update={"row_count": 0}), empty_frame())
    try:
        _scan(to_bytes(header, frame), control, records)
    except AssertionError:
        return
    raise AssertionError("the planted record id was not found")
