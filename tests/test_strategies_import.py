"""The shared strategies module imports (guards the test package layout)."""

import tests.strategies


def test_strategies_module_imports() -> None:
    assert tests.strategies.__doc__
