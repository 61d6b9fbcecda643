"""What every attack reports: records re-identified, as a share of the file and against chance."""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matcher.attacks.columns import AttackColumn

__all__ = ["MAX_OVER_CHANCE", "MAX_SHARE", "AttackResult", "chance_hits", "hits"]

#: The bounds matcher's files must keep (issue 12): at most 2x chance and at most 0.1 % of records.
MAX_OVER_CHANCE = 2.0
MAX_SHARE = 0.001


def chance_hits(truth: np.ndarray) -> int:
    """Records an attacker gets right by guessing the most frequent true value for every record."""
    known = [v for v in truth if v]
    if not known:
        return 0
    _, counts = np.unique(np.asarray(known, dtype=object).astype(str), return_counts=True)
    return int(counts.max())


def hits(guesses: np.ndarray, truth: np.ndarray) -> int:
    """Records whose guess equals their (known, non-empty) true value."""
    return sum(1 for g, t in zip(guesses, truth, strict=True) if g is not None and t and g == t)


@dataclass(frozen=True)
class AttackResult:
    """One attack on one column of one target (``baseline`` or ``matcher``).

    ``records`` is the number of records attacked (the file, or the subsample an expensive attack
    runs on), ``reidentified`` those whose exact name or identity number the attack recovered, and
    ``chance`` those a guess of the most frequent value recovers.
    """

    attack: str
    target: str
    column: str
    truth: str
    records: int
    reidentified: int
    chance: int
    seconds: float
    detail: dict[str, float] = field(default_factory=dict)

    @classmethod
    def scored(
        cls,
        attack: str,
        target: str,
        column: AttackColumn,
        guessed: np.ndarray,
        truth: np.ndarray,
        started: float,
        **detail: float,
    ) -> AttackResult:
        """The result of per-record guesses against the true values (``started``: the
        ``perf_counter`` reading when the attack began)."""
        return cls(
            attack=attack,
            target=target,
            column=column.name,
            truth=column.truth,
            records=len(truth),
            reidentified=hits(guessed, truth),
            chance=chance_hits(truth),
            seconds=perf_counter() - started,
            detail=dict(detail),
        )

    @property
    def share(self) -> float:
        """Re-identified records as a share of the records attacked."""
        return self.reidentified / self.records if self.records else 0.0

    @property
    def chance_share(self) -> float:
        """The chance guess's share of the records attacked."""
        return self.chance / self.records if self.records else 0.0

    @property
    def over_chance(self) -> float:
        """Re-identified records per record the chance guess gets (chance counts at least one)."""
        return self.reidentified / max(self.chance, 1)

    def within_bound(self) -> bool:
        """Whether the attack stays within matcher's bound: at most 2x chance, and at most 0.1 %
        of the records (at least one record) re-identified beyond what the chance guess gets."""
        allowed = max(MAX_SHARE * self.records, 1.0)
        beyond = self.reidentified - self.chance
        return self.over_chance <= MAX_OVER_CHANCE and beyond <= allowed

    def as_dict(self) -> dict[str, object]:
        """The figures as plain JSON values."""
        return {
            "attack": self.attack,
            "target": self.target,
            "column": self.column,
            "truth": self.truth,
            "records": self.records,
            "reidentified": self.reidentified,
            "share": self.share,
            "chance": self.chance,
            "chance_share": self.chance_share,
            "over_chance": self.over_chance,
            "within_bound": self.within_bound(),
            "seconds": round(self.seconds, 3),
            **{f"detail_{k}": v for k, v in self.detail.items()},
        }
