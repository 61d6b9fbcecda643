"""The match model: Fellegi–Sunter weights over comparison levels, estimated by EM on the round.

Each candidate pair has four comparison levels (identity, birth date, given name, surname: see
`kernels.comparison`). Under the Fellegi–Sunter model (Fellegi & Sunter 1969) a level ``l`` of
field ``f`` is evidence ``log2(m_fl / u_fl)``, where ``m`` is the chance of that level among true
matches and ``u`` among non-matches; a missing field is no evidence (weight 0). The weights add,
with the prior odds of a match, to the pair's log2 odds of being a match.

Estimation, on the round's own hashed data (as Splink does on clear text; Winkler 1988 for EM):

* ``u`` is measured on random record pairs (nearly all non-matches), compared like candidates;
* ``m`` and the number of matches among the candidates are fitted by expectation-maximisation
  on the candidates' pattern counts (one count per distinct pattern, so EM costs nothing at
  scale), ``u`` fixed; the prior is that number over all pairs. Probabilities stay off 0 and 1.
  Pairs with agreeing identity numbers are labelled matches (and two different numbers of one
  kind non-matches) rather than guessed: plain EM, seeing many namesakes and siblings agree on
  names, takes them for matches and learns that a match's birth date often differs.

Term-frequency adjustment (as Splink's): an exact name agreement is weighed by how common the
agreeing name is in the round, ``log2(u_exact / f_name)``, where ``f_name`` is the name's share
of all names of that field (counted on keyed words: the coordinator never learns the name). A rare
surname agreeing is strong evidence; the round's most common one is not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from matcher.errors import LinkageError
from matcher.kernels.comparison import DATE_LEVELS, ID_LEVELS, NAME_LEVELS, PATTERNS

__all__ = ["FACTORS", "FIELDS", "LEVELS", "MatchModel", "factors_of", "fit_model", "levels_of"]

FIELDS: tuple[str, ...] = ("identity", "birth_date", "given_name", "surname")
#: The model's factors: the two name fields are weighed jointly (see `factors_of`).
FACTORS: tuple[str, ...] = ("identity", "birth_date", "names")
LEVELS: dict[str, tuple[str, ...]] = {
    "identity": ("missing", "kinds differ", "agree", "differs"),
    "birth_date": ("missing", "exact", "one part differs", "differs"),
    "given_name": ("missing", "exact", "sounds alike", "similar", "somewhat similar", "differs"),
    "surname": ("missing", "exact", "sounds alike", "similar", "somewhat similar", "differs"),
}
_SIZES = (ID_LEVELS, DATE_LEVELS, NAME_LEVELS, NAME_LEVELS)
#: Sizes of the model's factors (identity, birth date, joint names).
_FACTORS = (ID_LEVELS, DATE_LEVELS, NAME_LEVELS * NAME_LEVELS)
#: Prior weight of a missing name field within the joint name prior.
MISSING_SHARE = 0.02
_EXACT = 1  # the exact level of a name field
_ID_AGREE, _ID_DIFFERS = 2, 3
_FLOOR = 1e-6
#: Prior knowledge, per field and level (level 0, missing, is never used), that a small round
#: cannot estimate on its own: m of a match (error rates of agency lists, as in the harsh synth
#: profile) and u of two different children (measured on 20k synthetic Swedish children: one
#: birth date in ~3,500, one given name in ~90, one surname in ~250). They enter as
#: pseudo-counts, so a round of a few hundred records leans on them and a large round on its
#: own data.
M_PRIOR: tuple[tuple[float, ...], ...] = (
    (1.0, 0.02, 0.97, 0.01),
    (1.0, 0.95, 0.04, 0.01),
    (1.0, 0.85, 0.05, 0.04, 0.03, 0.03),
    (1.0, 0.88, 0.05, 0.04, 0.02, 0.01),
)
U_PRIOR: tuple[tuple[float, ...], ...] = (
    (1.0, 0.05, 1e-6, 0.95),
    (1.0, 0.000284, 0.0115, 0.9882),
    (1.0, 0.0107, 0.0046, 0.00055, 0.064, 0.9202),
    (1.0, 0.004, 0.0015, 0.007, 0.12, 0.8675),
)
#: Share of children that are twins, times one half: about 1.7 % of Swedish births are multiple
#: births, so a random pair of n children are twins with chance ~0.034 / n.
TWIN_SHARE = 0.034
#: Highest prior chance that two records match: in a small round EM's count of matches is noisy
#: and high, and a link should rest on the evidence, not on the round being small.
PRIOR_CAP = 1e-3
#: Pseudo-names of the tf adjustment's smoothing (see `MatchModel.tf_constants`).
TF_PRIOR_NAMES = 1000.0
#: Weight of the priors, in pairs: matches for m, non-matching pairs for u.
M_PRIOR_PAIRS = 50.0
U_PRIOR_PAIRS = 20_000.0


def _joint_prior(given: tuple[float, ...], surname: tuple[float, ...]) -> tuple[float, ...]:
    """A prior over the joint name levels (given * NAME_LEVELS + surname) from per-field ones;
    a missing field (level 0) weighs MISSING_SHARE."""
    g = np.array((MISSING_SHARE, *given[1:]))
    s = np.array((MISSING_SHARE, *surname[1:]))
    joint = np.outer(g, s).reshape(-1)
    joint[0] = 1.0
    return tuple(float(x) for x in joint)


_M_FACTORS = (M_PRIOR[0], M_PRIOR[1], _joint_prior(M_PRIOR[2], M_PRIOR[3]))
_U_FACTORS = (U_PRIOR[0], U_PRIOR[1], _joint_prior(U_PRIOR[2], U_PRIOR[3]))


def factors_of(codes: np.ndarray) -> np.ndarray:
    """Pattern codes as the model's factors ``int64[n, 3]``: identity level, birth-date level,
    and the joint name level ``given * NAME_LEVELS + surname`` (0: both names missing).

    The two name fields are one factor because their evidence is not independent: each name's
    keyed word is salted with how the other name sounds (`steward.fields`), so an exact given
    name already says the surnames sound alike; weighing them apart would count that twice."""
    levels = levels_of(codes)
    return np.stack([levels[:, 0], levels[:, 1], levels[:, 2] * NAME_LEVELS + levels[:, 3]], 1)


def levels_of(codes: np.ndarray) -> np.ndarray:
    """Pattern codes as an ``int64[n, 4]`` matrix of levels (identity, date, given, surname)."""
    codes = codes.astype(np.int64)
    out = np.empty((codes.size, 4), np.int64)
    for f in range(3, -1, -1):
        out[:, f] = codes % _SIZES[f]
        codes = codes // _SIZES[f]
    return out


def _normalise(p: np.ndarray) -> np.ndarray:
    """Probabilities over the non-missing levels (index 1 on), kept off 0 and 1."""
    q = p.copy()
    q[0] = 1.0
    rest = np.clip(q[1:], _FLOOR, None)
    q[1:] = np.clip(rest / rest.sum(), _FLOOR, 1.0 - _FLOOR)
    return q


@dataclass(frozen=True)
class MatchModel:
    """Fitted m and u per field and level, the prior chance that a random pair matches, and the
    exact-agreement chance of random pairs per name field (the base of the tf adjustment)."""

    m: tuple[np.ndarray, ...]
    u: tuple[np.ndarray, ...]
    prior: float
    u_exact_given: float
    u_exact_surname: float
    iterations: int

    def level_weights(self) -> tuple[np.ndarray, ...]:
        """``log2(m / u)`` per field and level (0 for missing)."""
        out = []
        for m, u in zip(self.m, self.u, strict=True):
            w = np.log2(m / u)
            w[0] = 0.0
            out.append(w)
        return tuple(out)

    def pattern_weights(self, codes: np.ndarray) -> np.ndarray:
        """Log2 odds of a match for each pattern code, before the tf adjustment."""
        factors = factors_of(codes)
        total = np.full(codes.size, np.log2(self.prior / (1.0 - self.prior)))
        for f, w in enumerate(self.level_weights()):
            total += w[factors[:, f]]
        return total

    def name_shares(self, which: str) -> tuple[float, float]:
        """u of an exact given name (``which="given"``) or surname, and u of agreeing surnames
        (exact or alike), marginal over the joint name factor."""
        joint = self.u[2].reshape(NAME_LEVELS, NAME_LEVELS).copy()
        joint[0, 0] = 0.0
        if which == "given":
            return float(joint[_EXACT, :].sum()), float(joint[:, 1:3].sum())
        return float(joint[:, _EXACT].sum()), float(joint[:, 1:3].sum())

    def pattern_table(self, records: int) -> np.ndarray:
        """Log2 odds of a match for every pattern code ``0 .. PATTERNS - 1`` in a round of
        ``records`` records, before the tf adjustment (what the scoring kernel looks up).

        One dependence the independent weights miss is corrected: twins (and siblings born the
        same day) share birth date and surname, so among different children that combination is
        far more common than ``u_date * u_surname`` says. Where both agree but the given name
        does not (or is missing), the pair's odds are divided by
        ``(u_date * u_surname + twins) / (u_date * u_surname)`` with ``twins = TWIN_SHARE /
        records``, the chance that two records of the round are twins."""
        codes = np.arange(PATTERNS)
        table = self.pattern_weights(codes)
        levels = levels_of(codes)
        independent = float(self.u[1][1] * self.name_shares("surname")[0])
        twins = TWIN_SHARE / max(records, 1)
        sibling_like = (
            (levels[:, 1] == 1)
            & ((levels[:, 3] == 1) | (levels[:, 3] == 2))
            & ~((levels[:, 2] == 1) | (levels[:, 2] == 2))
        )
        table[sibling_like] += np.log2(independent / (independent + twins))
        return table

    def tf_constants(self, given_names: int, surname_names: int) -> np.ndarray:
        """Per name field (rows: given name, surname) the constants of the kernel's
        `tf_adjustment`: an exact agreement on a name held ``tf`` times among the round's
        ``names`` names of that field adds ``log2(u_exact / f)``, with the name's share
        ``f = (tf + K * u_exact) / (names + K)`` smoothed by ``K = TF_PRIOR_NAMES`` pseudo-names
        at the average share ``u_exact``: in a small round a name's count says little."""
        rows = []
        for u_exact, names in (
            (self.u_exact_given, given_names),
            (self.u_exact_surname, surname_names),
        ):
            rows.append(
                [np.log2(u_exact) + np.log2(names + TF_PRIOR_NAMES), TF_PRIOR_NAMES * u_exact]
            )
        return np.array(rows, np.float64)

    def describe(self) -> dict[str, dict[str, dict[str, float]]]:
        """m, u and weight per factor and level (for the round's stats and the docs); joint
        name levels are named "given level / surname level"."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        names = [
            f"{LEVELS['given_name'][g]} / {LEVELS['surname'][s]}"
            for g in range(NAME_LEVELS)
            for s in range(NAME_LEVELS)
        ]
        labels = (LEVELS["identity"], LEVELS["birth_date"], tuple(names))
        for f, name in enumerate(FACTORS):
            w = self.level_weights()[f]
            out[name] = {
                level: {"m": float(self.m[f][k]), "u": float(self.u[f][k]), "weight": float(w[k])}
                for k, level in enumerate(labels[f])
                if k
            }
        return out


def _level_shares(
    levels: np.ndarray, counts: np.ndarray, f: int, prior: tuple[float, ...], pairs: float
) -> np.ndarray:
    """Share of each level of field ``f`` among the (weighted) patterns, missing excluded, with
    ``pairs`` pseudo-counts spread as ``prior``."""
    shares = np.bincount(levels[:, f], weights=counts, minlength=_FACTORS[f]).astype(np.float64)
    shares[0] = 0.0
    shares[1:] += pairs * np.array(prior[1:])
    return _normalise(shares)


def fit_model(
    candidate_counts: np.ndarray,
    random_counts: np.ndarray,
    total_pairs: int,
    *,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> MatchModel:
    """Fit the model: u from random pairs, m by EM on the candidates' patterns.

    As Splink does: ``u`` is measured on random pairs (nearly all non-matches) and kept fixed;
    EM on the candidates (u fixed) estimates ``m`` and how many candidates are matches, and that
    count over ``total_pairs`` (all pairs the round could link) is the prior of a random pair.
    Blocking only chooses which pairs are scored; a pair's weight does not depend on it.
    """
    if candidate_counts.shape != (PATTERNS,) or random_counts.shape != (PATTERNS,):
        raise LinkageError("pattern counts need one count per pattern", reason="shape")
    all_levels = factors_of(np.arange(PATTERNS))
    # random pairs are drawn with replacement: a small round has fewer distinct pairs than draws
    # a random pair whose identity numbers agree is a match: in a small round with much overlap
    # there are enough of them to distort u, so they are left out
    random_counts = np.where(all_levels[:, 0] == _ID_AGREE, 0, random_counts)
    drawn = float(random_counts.sum())
    scale = min(1.0, max(float(total_pairs), 1.0) / drawn) if drawn else 0.0
    sample = random_counts.astype(np.float64) * scale
    u = [_level_shares(all_levels, sample, f, _U_FACTORS[f], U_PRIOR_PAIRS) for f in range(3)]
    m = [_normalise(np.array(start)) for start in _M_FACTORS]
    patterns = np.flatnonzero(candidate_counts)
    levels = all_levels[patterns]
    weights_of = candidate_counts[patterns].astype(np.float64)
    log_u = np.zeros(patterns.size)
    for f in range(3):
        known = levels[:, f] > 0
        log_u[known] += np.log(u[f][levels[known, f]])
    # pairs whose identity numbers agree are matches, two numbers of one kind never are: these
    # labels anchor EM, which on its own takes namesakes for matches (correlated names)
    labelled = (levels[:, 0] == _ID_AGREE) | (levels[:, 0] == _ID_DIFFERS)
    known_match = (levels[:, 0] == _ID_AGREE).astype(np.float64)
    # the prior is over all pairs: u is measured on all pairs, and pairs outside the blocks are
    # (nearly) all non-matches, so a candidate's chance to match is prior * m / u
    total = max(float(total_pairs), 2.0)
    prior = float(np.clip(weights_of.sum() / total / 2.0, _FLOOR * _FLOOR, 0.5))
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        log_m = np.zeros(patterns.size)
        for f in range(3):
            known = levels[:, f] > 0
            log_m[known] += np.log(m[f][levels[known, f]])
        odds = np.exp(np.clip(log_m - log_u, -700, 700)) * prior / (1.0 - prior)
        g = np.where(labelled, known_match, odds / (1.0 + odds))
        matched = g * weights_of
        new_prior = float(np.clip(matched.sum() / total, _FLOOR * _FLOOR, 0.5))
        # a record's birth date comes from its identity number when it has one, so pairs
        # labelled by agreeing numbers always agree on it: they say nothing of date errors
        unlabelled = matched * ~labelled
        new_m = [
            _level_shares(
                levels, unlabelled if f == 1 else matched, f, _M_FACTORS[f], M_PRIOR_PAIRS
            )
            for f in range(3)
        ]
        change = abs(np.log(new_prior / prior)) + max(
            float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True)
        )
        m, prior = new_m, new_prior
        if change < tolerance:
            break
    model = MatchModel(
        m=tuple(m),
        u=tuple(u),
        prior=min(prior, PRIOR_CAP),
        u_exact_given=0.0,
        u_exact_surname=0.0,
        iterations=iterations,
    )
    return replace(
        model,
        u_exact_given=model.name_shares("given")[0],
        u_exact_surname=model.name_shares("surname")[0],
    )
