"""The wheel builds, installs into a clean venv without the server extra, and hashes an export.

This is what a steward does on a locked-down laptop (``pip install sspf-matcher``, no make).
One venv for the whole module; pip's download cache makes later runs fast, and a wheelhouse
named by ``MATCHER_WHEELHOUSE`` (``pip download`` output) makes the install offline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the built wheel installed (base dependencies only); its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    built = _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "-w", work / "dist", ROOT,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (work / "dist").glob("sspf_matcher-*.whl")
    venv.EnvBuilder(with_pip=True).create(work / "venv")
    bin_dir = work / "venv" / ("Scripts" if os.name == "nt" else "bin")
    find_links = os.environ.get("MATCHER_WHEELHOUSE")
    offline = ["--no-index", "--find-links", find_links] if find_links else []
    install = _run(bin_dir / "python", "-m", "pip", "install", "-q", *offline, wheel)
    assert install.returncode == 0, install.stderr[-2000:]
    return bin_dir


def test_base_install_has_no_server_dependencies(installed: Path) -> None:
    probe = "import importlib.util as u; print([m for m in ('fastapi', 'sqlalchemy', 'uvicorn', "
    probe += "'psycopg', 'alembic', 'matplotlib') if u.find_spec(m)])"
    result = _run(installed / "python", "-c", probe)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout


def test_matcher_hash_runs_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    matcher = installed / "matcher"
    key = tmp_path / "sspf.key"
    assert _run(matcher, "key", "new", "--out", key).returncode == 0
    out, local_map = tmp_path / "skola.hashed.parquet", tmp_path / "skola.map.parquet"
    result = _run(
        matcher, "hash", ROOT / "examples" / "skola_export.csv", "--key", key,
        "--round", "vt-2026", "--agency", "skola", "--out", out, "--map", local_map,
        "--rejects", tmp_path / "rejects.csv", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert pl.read_parquet(out).height > 0 and pl.read_parquet(local_map).height > 0


def test_server_commands_name_the_missing_extra(installed: Path) -> None:
    result = _run(installed / "matcher", "serve")
    assert result.returncode == 11  # MissingExtraError
    assert "pip install 'sspf-matcher[server]'" in result.stderr + result.stdout
