"""TLS without a reverse proxy: `matcher serve` takes a certificate and key, and the CLI client
refuses to send a token over plain http to anything but loopback unless told to."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from matcher.errors import ConfigError
from matcher_cli.app import app
from matcher_cli.client import ClientSettings, MatcherClient

runner = CliRunner()


@pytest.mark.parametrize(
    "server", ["http://192.0.2.10:8000", "http://sspf.example.se", "http://10.1.2.3"]
)
def test_plain_http_to_another_machine_is_refused(server: str) -> None:
    with pytest.raises(ConfigError) as refused:
        MatcherClient(ClientSettings(server=server, token="t0ken"))
    assert refused.value.reason == "insecure_http" and "t0ken" not in str(refused.value)


@pytest.mark.parametrize(
    "server",
    [
        "https://sspf.example.se",
        "http://127.0.0.1:8000",
        "http://127.8.9.10",
        "http://localhost:8000",
        "http://[::1]:8000",
    ],
)
def test_https_and_loopback_take_tokens(server: str) -> None:
    MatcherClient(ClientSettings(server=server, token="t0ken")).__exit__()


def test_insecure_http_when_told_to() -> None:
    settings = ClientSettings(server="http://192.0.2.10", token="t", allow_insecure_http=True)
    MatcherClient(settings).__exit__()


def test_serve_needs_both_tls_files(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    result = runner.invoke(app, ["serve", "--ssl-certfile", str(cert)])
    assert result.exit_code == ConfigError.exit_code
    assert "--ssl-keyfile" in result.output


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_speaks_https_with_a_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "MATCHER_DATA_DIR": str(tmp_path / "data"),
        "MATCHER_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'matcher.db'}",
        "MATCHER_COORDINATOR_TOKEN": "c" * 40,
    }
    command = [sys.executable, "-m", "matcher_cli", "serve", "--port", str(port)]
    command += ["--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    trusted = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text()
            try:
                response = httpx.get(f"https://127.0.0.1:{port}/health", verify=trusted)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert response.status_code == 200
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert f"https://127.0.0.1:{port}" in log.read_text()
    finally:
        process.terminate()
        process.wait(15)
