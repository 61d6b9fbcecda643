"""Without a browser the browser tests fail when CI is set and skip otherwise (never silently)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _run_browser_tests(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "MATCHER_REQUIRE_BROWSER")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rs",
            "tests/web/test_browser.py",
            "-k",
            "zoom",
        ],
        cwd=ROOT,
        env=base | {"MATCHER_CHROMIUM": "/nonexistent/chromium"} | env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_missing_browser_fails_in_ci() -> None:
    outcome = _run_browser_tests(CI="true")
    assert outcome.returncode == 1, outcome.stdout
    assert "browser tests need /nonexistent/chromium" in outcome.stdout


def test_a_missing_browser_skips_outside_ci() -> None:
    outcome = _run_browser_tests()
    assert outcome.returncode == 0, outcome.stdout
    assert "1 skipped" in outcome.stdout
