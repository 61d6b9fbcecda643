"""Hypothesis profiles (chosen by ``MATCHER_HYPOTHESIS_PROFILE``) and example counts scaled by them.

A test that needs fewer examples than the default (slow bodies: API round trips, whole-file
hashing) asks :func:`examples` for a count relative to the loaded profile, never a fixed number,
so the ``ci`` and ``thorough`` profiles raise every test's count, not only the unpinned ones.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: The profile that local runs load; a test's ``examples(n)`` is exactly ``n`` under it.
BASE_PROFILE = "fast"
PROFILE_EXAMPLES = {"fast": 40, "ci": 120, "thorough": 1000}

for _name, _count in PROFILE_EXAMPLES.items():
    settings.register_profile(
        _name, max_examples=_count, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
settings.load_profile(os.environ.get("MATCHER_HYPOTHESIS_PROFILE", BASE_PROFILE))


def examples(at_base: int) -> int:
    """``at_base`` examples under the base profile, scaled by the loaded profile's count."""
    scale = settings().max_examples / PROFILE_EXAMPLES[BASE_PROFILE]
    return max(1, round(at_base * scale))
