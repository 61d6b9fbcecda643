"""Synthetic agencies: valid identifiers, complete truth, rates, real-looking files, determinism."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tomllib
import zipfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.errors import ConfigError, OutputExistsError
from matcher.evaluation.synth import (
    ERROR_TYPES,
    SYNTH_PROFILES,
    SynthConfig,
    config_from_options,
    generate,
    synthesize,
)
from matcher.evaluation.synth_names import TRANSLITERATIONS
from matcher.steward.identifiers import luhn_check_digits
from tests.profiles import examples

ALL_AGENCIES = ("skola", "socialtjanst", "polis", "fritid", "elevhalsa", "bup")


def _luhn_ok(ten: str) -> bool:
    """Luhn over a 10-digit number (independent twin of the library's check)."""
    total = 0
    for i, ch in enumerate(ten[:9]):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return (10 - total % 10) % 10 == int(ten[9])


def _ten_digits(written: str) -> str:
    """The 10-digit form of a written identity number (9 digits: leading zero was lost)."""
    digits = "".join(ch for ch in written if ch.isdigit())
    if len(digits) == 12:
        return digits[2:]
    if len(digits) == 9:
        return "0" + digits
    return digits


def _joined(data_exports: dict[str, pl.DataFrame], config: SynthConfig) -> pl.DataFrame:
    """All exports in standard column names, with their agency."""
    frames = []
    for name, frame in data_exports.items():
        headers = config.profiles[name].headers
        renamed = frame.rename({h: f for f, h in headers.items()})
        if "full_name" in renamed.columns:  # "Efternamn, Förnamn" in one column
            parts = pl.col("full_name").str.split_exact(", ", 1)
            renamed = renamed.with_columns(
                last_name=parts.struct.field("field_0"), first_name=parts.struct.field("field_1")
            ).drop("full_name")
        frames.append(renamed.with_columns(agency=pl.lit(name)))
    return pl.concat(frames, how="diagonal")


@given(st.lists(st.integers(0, 9), min_size=9, max_size=9))
def test_luhn_matches_reference(nine: list[int]) -> None:
    check = int(luhn_check_digits(np.array([nine]))[0])
    assert _luhn_ok("".join(map(str, nine)) + str(check))


@settings(max_examples=examples(15))
@given(seed=st.integers(0, 2**32 - 1), children=st.integers(1, 400))
def test_generated_numbers_valid_and_truth_complete(seed: int, children: int) -> None:
    config = SynthConfig(
        children=children,
        seed=seed,
        agencies=ALL_AGENCIES,
        samordningsnummer_share=0.1,
        number_change_share=0.5,
    )
    data = generate(config)
    rows = _joined(data.exports, config).join(
        data.truth, on=["agency", "record_id"], how="full", coalesce=True
    )
    # The truth covers every record exactly once, and record ids are unique per agency.
    assert rows.height == data.truth.height == sum(f.height for f in data.exports.values())
    assert rows["child_id"].null_count() == 0 and rows["first_name"].null_count() == 0
    assert not data.truth.select("agency", "record_id").is_duplicated().any()
    assert set(data.truth["error_types"].explode().drop_nulls()) <= set(ERROR_TYPES)

    id_errors = {
        "id_typo",
        "id_transposition",
        "id_missing",
        "local_number",
    }
    for row in rows.iter_rows(named=True):
        labels = set(row["error_types"])
        written = row["personnummer"]
        if row["id_kind"] == "none":
            assert written is None or "local_number" in labels
            continue
        if "id_missing" in labels:
            assert written is None
            continue
        ten = _ten_digits(written)
        assert len(ten) == 10
        if labels & id_errors:
            wrong_valid = "id_wrong_but_valid" in labels
            assert _luhn_ok(ten) == wrong_valid
            continue
        assert _luhn_ok(ten)
        day = int(ten[4:6])
        if row["id_kind"] == "samordningsnummer" and "id_changed" not in labels:
            assert 61 <= day <= 91
        else:
            assert 1 <= day <= 31
            born = date(2000 + int(ten[:2]), int(ten[2:4]), day)
            age = (config.reference_date - born).days / 365.25
            # A renewed number keeps a newly arrived child's default birth date (1 Jan or
            # 1 Jul of the birth year), which may lie up to a year before the true date.
            assert 5.9 < age < (19.1 if "id_changed" in labels else 18.1)
        if "ascii_fold" in labels and "icao_spelling" not in labels:
            for value in (row["first_name"], row["last_name"]):
                assert not set("åäöéÅÄÖÉ") & set(value)


def test_same_seed_same_data_other_seed_other_data() -> None:
    first = generate(SynthConfig(children=300, seed=7))
    again = generate(SynthConfig(children=300, seed=7))
    other = generate(SynthConfig(children=300, seed=8))
    assert first.truth.equals(again.truth)
    for name in first.exports:
        assert first.exports[name].equals(again.exports[name])
    assert not first.truth.equals(other.truth)


def test_rates_are_respected_roughly() -> None:
    config = SynthConfig(
        children=20_000,
        seed=11,
        id_typo_rate=0.1,
        id_missing_rate=0.05,
        name_typo_rate=0.08,
        birth_date_missing_rate=0.1,
        samordningsnummer_share=0.05,
        no_number_share=0.03,
    )
    truth = generate(config).truth
    n = truth.height

    def share(label: str, among: pl.Expr | None = None) -> float:
        frame = truth if among is None else truth.filter(among)
        return frame["error_types"].list.contains(label).mean()  # type: ignore[return-value]

    has_number = pl.col("id_kind") != "none"
    assert share("id_typo", has_number) == pytest.approx(0.1, abs=0.015)
    assert share("id_missing", has_number) == pytest.approx(0.05, abs=0.01)
    assert share("birth_date_missing") == pytest.approx(0.1, abs=0.015)
    typos = sum(share(x) for x in ("name_substitution", "name_deletion", "name_doubling"))
    assert typos == pytest.approx(0.08, abs=0.015)
    children = truth.unique("child_id")
    kinds = children["id_kind"].value_counts(normalize=True)
    got = dict(zip(kinds["id_kind"], kinds["proportion"], strict=True))
    assert got["samordningsnummer"] == pytest.approx(0.05, abs=0.01)
    assert got["none"] == pytest.approx(0.03, abs=0.01)
    # Children on several lists: about 22 % of children by the default distribution.
    per_child = truth.group_by("child_id").agg(pl.col("agency").n_unique().alias("n"))
    assert (per_child["n"] >= 2).mean() == pytest.approx(0.22, abs=0.03)
    assert n > 20_000


def test_files_are_written_like_agency_exports(tmp_path: Path) -> None:
    config = SynthConfig(children=400, seed=5, agencies=ALL_AGENCIES)
    out = synthesize(config, tmp_path)
    manifest = json.loads(out.manifest.read_text(encoding="utf-8"))
    truth = pl.read_parquet(out.truth)
    assert set(manifest["agencies"]) == set(ALL_AGENCIES)
    for name, path in out.files.items():
        profile = config.profiles[name]
        info = manifest["agencies"][name]
        mapping = tomllib.loads((tmp_path / info["mapping"]).read_text(encoding="utf-8"))
        assert mapping["columns"] == {h: f for f, h in profile.headers.items()}
        raw = path.read_bytes()
        if path.suffix == ".xlsx":
            assert raw.startswith(b"PK\x03\x04")  # an Office Open XML zip, not CSV renamed
            book = openpyxl.load_workbook(path, read_only=True)
            sheet = book.active
            grid = [list(r) for r in sheet.iter_rows(values_only=True)]
            assert grid[0][0] == profile.title
            assert grid[2] == list(profile.headers.values())
            pnr_col = grid[2].index(profile.headers["personnummer"])
            ids = [r[pnr_col] for r in grid[3:] if r[pnr_col] is not None]
            assert ids and all(isinstance(v, str) for v in ids)  # text, leading zeros kept
            date_col = grid[2].index(profile.headers["signal_date"])
            assert all(isinstance(r[date_col], datetime) for r in grid[3:])  # real date cells
            body = grid[3:]
        else:
            if profile.encoding == "cp1252":
                assert not raw.startswith(b"\xef\xbb\xbf")
                text = raw.decode("cp1252")
                with pytest.raises(UnicodeDecodeError):
                    raw.decode("utf-8")  # Swedish letters are single Windows-1252 bytes
            elif profile.encoding == "utf-8-sig":
                assert raw.startswith(b"\xef\xbb\xbf")
                text = raw.decode("utf-8-sig")
            else:
                text = raw.decode("utf-8")
            assert ("\r\n" in text) == (profile.line_terminator == "\r\n")
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=profile.delimiter)
            grid = list(reader)
            assert grid[0] == list(profile.headers.values())
            body = grid[1:]
        assert len(body) == info["rows"] == truth.filter(pl.col("agency") == name).height
        id_col = list(profile.headers).index("record_id")
        assert {str(r[id_col]) for r in body} == set(
            truth.filter(pl.col("agency") == name)["record_id"]
        )


def test_existing_output_is_not_overwritten(tmp_path: Path) -> None:
    config = SynthConfig(children=20, seed=1)
    synthesize(config, tmp_path)
    with pytest.raises(OutputExistsError):
        synthesize(config, tmp_path)
    synthesize(config, tmp_path, overwrite=True)


def test_large_excel_falls_back_to_csv(tmp_path: Path) -> None:
    out = synthesize(SynthConfig(children=200, seed=2, xlsx_max_rows=10), tmp_path)
    assert out.files["fritid"].suffix == ".csv"
    assert any("fritid" in note for note in out.notes)


def test_bad_settings_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="agencies"):
        config_from_options({"agencies": ("skola", "nope")})
    with pytest.raises(ConfigError):
        config_from_options({"id_typo_rate": 1.5})
    assert config_from_options({"children": 5, "seed": None}).children == 5


# Digests of every file `synthesize` writes for one seed and config, recorded from the code
# before synth.py was split (issue 16): the split and any new profile must not change them.
# An xlsx is hashed member by member without docProps/core.xml (it holds the write time).
PINNED_DIGESTS = {
    "bup.csv": "e42241e9172b0166a0719c650b2e5892",
    "bup.mapping.toml": "f9f17525e8258bad58e379e21f618429",
    "elevhalsa.csv": "cd19c6c579fab13cd890a50e1a099809",
    "elevhalsa.mapping.toml": "f06733080079813b97b4c5b1d582d2b6",
    "fritid.mapping.toml": "5d81e3e395866a6808ad839b2b530639",
    "fritid.xlsx": "c971e5d7ba26444b0d8d490f96ed5a27",
    "manifest.json": "e0346274b347ad3d47398f125d9b5ec9",
    "polis.csv": "48105c8980258272866bc19b6831e8e6",
    "polis.mapping.toml": "e2583bef7ac41fd5f2660c8790d6416a",
    "skola.csv": "2c943db85dcad66123cf90dac92afe09",
    "skola.mapping.toml": "24f69dbcfd0b3ec46c8ad79c408a75fe",
    "socialtjanst.csv": "687da9e630febcc43fcc341c0561e0f8",
    "socialtjanst.mapping.toml": "52ffb05e282510f5d05890824d746c6d",
    "truth.parquet": "5f22ab0dc0d1c1db629b23d596a374a7",
}


def _file_digest(path: Path) -> str:
    """SHA-256 (first 32 hex digits) of a written file; an xlsx without its timestamp member."""
    h = hashlib.sha256()
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            for name in sorted(z.namelist()):
                if name != "docProps/core.xml":
                    h.update(name.encode())
                    h.update(z.read(name))
    else:
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


def test_seeded_output_is_pinned_byte_for_byte(tmp_path: Path) -> None:
    synthesize(SynthConfig(children=400, seed=7, agencies=ALL_AGENCIES), tmp_path)
    written = {p.name: _file_digest(p) for p in sorted(tmp_path.iterdir())}
    assert written == PINNED_DIGESTS


def test_harsh_profile_sets_rates_and_explicit_settings_win() -> None:
    harsh = SynthConfig(profile="harsh")
    assert harsh.id_missing_rate == SYNTH_PROFILES["harsh"]["id_missing_rate"]
    assert SynthConfig(profile="harsh", id_missing_rate=0.0).id_missing_rate == 0.0
    assert SynthConfig().transliteration_rate == 0.0
    assert config_from_options({"profile": "harsh"}).profile == "harsh"
    with pytest.raises(ConfigError):
        config_from_options({"profile": "brutal"})


def test_harsh_profile_draws_every_family_and_labels_it_truthfully() -> None:
    config = SynthConfig(children=4000, seed=3, profile="harsh", agencies=ALL_AGENCIES)
    data = generate(config)
    truth = data.truth
    labels = set(truth["error_types"].explode().drop_nulls().to_list())
    assert set(ERROR_TYPES) - labels <= {"id_plus_separator"}  # rare at 4000 children
    joined = _joined(data.exports, config).join(
        truth.select("agency", "record_id", "error_types"), on=["agency", "record_id"]
    )
    assert joined.height == truth.height
    only = joined.filter(pl.col("error_types").list.contains("name_only"))
    assert only.height > 0
    assert only["personnummer"].null_count() == only.height
    assert only["birth_date"].null_count() == only.height
    assert only["last_name"].null_count() == 0
    moved = joined.filter(pl.col("error_types").list.contains("transliteration"))
    variants = {v.casefold() for group in TRANSLITERATIONS for v in group[1:]}
    for first, last in moved.select("first_name", "last_name").iter_rows():
        words = f" {first or ''} {last or ''} ".casefold()
        assert any(f" {v} " in words for v in variants)
