"""The privacy attack suite (issue 12): published attacks run on weak baselines and on matcher.

One module per attack (``dictionary``, ``frequency``, ``pattern_mining``, ``graph_matching``,
``cross_round``, ``curious_agency``), each citing the paper it follows and what its attacker
knows; ``columns`` registers which columns are attacked, ``suite`` runs them all.
"""

from __future__ import annotations

from matcher.attacks.columns import BASELINE_COLUMNS, MATCHER_COLUMNS, AttackColumn
from matcher.attacks.result import AttackResult
from matcher.attacks.suite import ATTACKS, SuiteConfig, run_suite

__all__ = [
    "ATTACKS",
    "BASELINE_COLUMNS",
    "MATCHER_COLUMNS",
    "AttackColumn",
    "AttackResult",
    "SuiteConfig",
    "run_suite",
]
