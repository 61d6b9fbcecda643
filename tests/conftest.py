"""Shared test configuration: hypothesis profiles chosen by MATCHER_HYPOTHESIS_PROFILE."""

from __future__ import annotations

import tests.profiles  # noqa: F401  (registers and loads the hypothesis profile)
