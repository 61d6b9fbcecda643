"""Result views in the API: the coordinator's counts are suppressed below the threshold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from matcher_api.views import suppress


@given(st.integers(0, 1000), st.integers(1, 20))
def test_suppression(count: int, threshold: int) -> None:
    shown = suppress(count, threshold)
    assert shown == (f"<{threshold}" if count < threshold else count)


def test_api_policy_names_are_the_library_enum() -> None:
    from matcher.disclosure import DisclosurePolicy
    from matcher_api.schemas import DisclosurePolicy as ApiPolicy
    from matcher_api.schemas import RoundCreate

    assert ApiPolicy is DisclosurePolicy
    schema = RoundCreate.model_json_schema()
    assert schema["$defs"]["DisclosurePolicy"]["enum"] == [p.value for p in DisclosurePolicy]
