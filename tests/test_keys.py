"""Secret key files, fingerprints, HKDF round keys, sub-keys and the key check value."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.errors import ConfigError, KeyFileError, OutputExistsError
from matcher.steward.keys import (
    KEY_FILE_HEADER,
    PROJECT_SALT,
    RoundKeys,
    derive_round_key,
    derive_subkey,
    fingerprint,
    key_check_value,
    new_secret,
    read_key_file,
    write_key_file,
)

secrets_ = st.binary(min_size=32, max_size=32)
round_ids = st.text(
    st.characters(categories=("L", "N", "P", "S"), max_codepoint=0x2FF), min_size=1, max_size=40
)


def _hkdf_rfc5869(key: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """An independent HKDF-SHA256 (RFC 5869) written with hmac only."""
    prk = hmac.new(salt, key, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def test_new_secret_is_32_fresh_bytes() -> None:
    a, b = new_secret(), new_secret()
    assert len(a) == len(b) == 32
    assert a != b


def test_key_file_round_trip_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "round.key"
    secret = new_secret()
    write_key_file(path, secret)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path) == secret
    text = path.read_text()
    assert text.splitlines()[0] == KEY_FILE_HEADER
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "round.key"
    first = new_secret()
    write_key_file(path, first)
    with pytest.raises(OutputExistsError):
        write_key_file(path, new_secret())
    assert read_key_file(path) == first


def test_write_refuses_wrong_size(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        write_key_file(tmp_path / "k", b"short")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_read_refuses_group_or_world_readable(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "k"
    write_key_file(path, new_secret())
    os.chmod(path, mode)
    with pytest.raises(KeyFileError) as err:
        read_key_file(path)
    assert err.value.reason == "permissions"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "format"),
        (b"matcher-secret-v1\n", "format"),
        (b"matcher-secret-v1\n" + b"ab" * 16 + b"\n", "size"),
        (b"matcher-secret-v1\n" + b"zz" * 32 + b"\n", "format"),
        (b"something-else\n" + b"ab" * 32 + b"\n", "format"),
        (b"\xff\xfe binary", "format"),
    ],
)
def test_read_refuses_malformed(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "k"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError) as err:
        read_key_file(path)
    assert err.value.reason == reason
    assert "abab" not in str(err.value) and "zzzz" not in str(err.value)


def test_read_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        read_key_file(tmp_path / "nope")
    folder = tmp_path / "dir"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyFileError):
        read_key_file(folder)


def test_read_accepts_comments(tmp_path: Path) -> None:
    secret = new_secret()
    path = tmp_path / "k"
    path.write_text(f"# custodian: A\n{KEY_FILE_HEADER}\n\n{secret.hex().upper()}\n")
    os.chmod(path, 0o600)
    assert read_key_file(path) == secret


@given(secrets_, secrets_)
def test_fingerprint_is_short_stable_and_reveals_nothing(a: bytes, b: bytes) -> None:
    fp = fingerprint(a)
    assert fp == fingerprint(a)
    assert len(fp) == 19 and fp.count("-") == 3
    assert a.hex()[:8] not in fp.replace("-", "")
    if a != b:
        assert fp != fingerprint(b)


@given(secrets_, round_ids)
def test_round_key_is_rfc5869_hkdf(secret: bytes, round_id: str) -> None:
    info = f"matcher/v1/round/{round_id}".encode()
    assert derive_round_key(secret, round_id) == _hkdf_rfc5869(secret, PROJECT_SALT, info)


@given(secrets_, round_ids, round_ids)
def test_rounds_and_purposes_get_distinct_keys(secret: bytes, r1: str, r2: str) -> None:
    k1, k2 = derive_round_key(secret, r1), derive_round_key(secret, r2)
    assert (k1 == k2) == (r1 == r2)
    assert derive_subkey(k1, "token/id") != derive_subkey(k1, "token/name")
    assert derive_subkey(k1, "bf/given") != derive_subkey(k1, "bf/surname")


@given(secrets_, secrets_, round_ids)
def test_wrong_key_is_detected_by_the_check_value(a: bytes, b: bytes, round_id: str) -> None:
    ka, kb = derive_round_key(a, round_id), derive_round_key(b, round_id)
    check = key_check_value(ka)
    assert check == hmac.new(ka, b"matcher key check v1", hashlib.sha256).digest()[:8].hex()
    assert len(check) == 16
    assert (check == key_check_value(kb)) == (a == b)


def test_round_keys_never_print_key_material() -> None:
    secret = new_secret()
    keys = RoundKeys.derive(secret, "r1")
    shown = repr(keys) + str(keys)
    assert secret.hex() not in shown
    assert derive_round_key(secret, "r1").hex() not in shown
    assert keys.key_check in shown


@pytest.mark.parametrize("bad", ["", "x" * 201, "tab\there"])
def test_bad_round_ids_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError):
        derive_round_key(new_secret(), bad)
