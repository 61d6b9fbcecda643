"""Corrupted uploads against a real service (issue 13 item 5): truncated, bit-flipped, with a
wrong mark at either end, not Parquet at all, or a decompression bomb. Each gets a 4xx and one
line in the service's log; the service's stderr never shows a trace (nor a Rust panic)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from matcher_api.errors import UnprocessableError
from matcher_api.footer_probe import footer_file, probe_footer
from tests.api.factories import bomb_table, hashed_bytes, hashed_table_bytes
from tests.api.test_service_process import _round, _upload, serve

SEED = 13
FLIPPED = 40
CUTS = 12
REFUSED = {409, 413, 422}  # 409: a flip inside the header's key check value


def _aborting_footer() -> bytes:
    """A hashed file with one flipped bit in its footer on which pyarrow aborts the process
    that reads its column chunks' metadata (C++ std::terminate; found by the fuzzing below)."""
    refs = [f"ref{i:05d}" for i in range(300)]
    damaged = bytearray(hashed_bytes("r1", "skola", list(range(300)), refs=refs))
    damaged[1404] ^= 64  # the file layout of hashed file format 2
    return bytes(damaged)


def test_a_footer_that_aborts_pyarrow_is_refused_by_the_helper() -> None:
    with pytest.raises(UnprocessableError) as refused:
        probe_footer(_aborting_footer())
    assert refused.value.reason == "damaged_footer"
    good = hashed_bytes("r1", "skola", [1, 2, 3])
    probe_footer(good)  # a new helper answers the next upload
    assert footer_file(good) is not None and footer_file(b"PAR1") is None


def _corrupted(good: bytes, round_id: str, rng: random.Random) -> dict[str, bytes]:
    """Named corruptions of one good hashed file."""
    cases = {
        "aborting footer": _aborting_footer(),
        "empty": b"",
        "text": b"personnummer;namn\n" * 20,
        "magic at the start": b"XXXX" + good[4:],
        "magic at the end": good[:-4] + b"XXXX",
        "bomb (rows)": hashed_table_bytes(round_id, "skola", bomb_table("rows", "skola")),
        "bomb (string)": hashed_table_bytes(round_id, "skola", bomb_table("string", "skola")),
    }
    for n in range(CUTS):
        cases[f"truncated {n}"] = good[: rng.randrange(len(good))]
    for n in range(FLIPPED):
        damaged = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        cases[f"flipped {n}"] = bytes(damaged)
    return cases


def test_corrupted_uploads_get_a_4xx_and_one_log_line_never_a_trace(
    tmp_path: Path, database_url: str
) -> None:
    rng = random.Random(SEED)
    with serve(tmp_path, database_url) as service:
        round_id, tokens = _round(service, ("skola", "polis"))
        refs = [f"ref{i:05d}" for i in range(300)]  # fixed: the same corruptions every run
        good = hashed_bytes(round_id, "skola", list(range(300)), refs=refs)
        polis = hashed_bytes(round_id, "polis", [1])
        assert _upload(service, round_id, tokens["polis"], polis) == 200
        codes = {
            name: _upload(service, round_id, tokens["skola"], content)
            for name, content in _corrupted(good, round_id, rng).items()
        }
        assert _upload(service, round_id, tokens["skola"], good) == 200
    log = service.log.read_text()
    refused = [name for name, code in codes.items() if code != 200]
    assert all(codes[name] in REFUSED for name in refused), codes
    unflipped = [name for name in codes if not name.startswith("flipped")]
    assert set(unflipped) <= set(refused), codes
    # A flip inside a data page that still decodes is a valid file (Parquet pages carry no
    # checksum by default); most flips are refused.
    assert len(refused) > len(unflipped) + FLIPPED // 2, codes
    assert log.count("upload refused:") == len(refused), (codes, log[-3000:])
    assert "Traceback" not in log and "panicked" not in log
