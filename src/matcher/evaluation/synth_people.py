"""The synthetic population: identity numbers, name pools, children and their agency lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from matcher.evaluation import synth_names as names
from matcher.evaluation.synth_config import SynthConfig
from matcher.steward.identifiers import luhn_check_digits

# ---------------------------------------------------------------------------------------------
# Identity numbers


def _date_digits(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of datetime64[D] values as int64 arrays."""
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _number_digits(
    year: np.ndarray, month: np.ndarray, day: np.ndarray, serial: np.ndarray
) -> np.ndarray:
    """The 12-digit form YYYYMMDDNNNC as an (n, 12) uint8 matrix, with its Luhn digit."""
    n = year.shape[0]
    out = np.empty((n, 12), dtype=np.uint8)
    for col, (value, width) in enumerate(((year, 4), (month, 2), (day, 2), (serial, 3))):
        start = (0, 4, 6, 8)[col]
        for i in range(width):
            out[:, start + i] = (value // 10 ** (width - 1 - i)) % 10
    out[:, 11] = luhn_check_digits(out[:, 2:11])
    return out


def _assign_serials(
    rng: np.random.Generator, day_key: np.ndarray, sex: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct birth numbers per (kind, date, sex): odd third digit for boys, even for girls.

    Each date has 500 numbers for boys and 499 for girls (000 is not used). Children sharing a
    date get distinct slots through a random affine map of their rank. When a date runs out
    (default birth dates of newly arrived children), the number's day moves to another day of
    the same month, as Skatteverket may do (prop. 2008/09:111). Returns (serial, number day).
    """
    n = day_key.shape[0]
    capacity = np.where(sex == 1, 500, 499)
    num_day = day.copy()
    for _ in range(100):
        group = ((day_key + (num_day - day)) * 2 + sex).astype(np.int64)
        order = np.argsort(group * (1 << 21) + rng.integers(0, 1 << 21, n))  # random in group
        sorted_group = group[order]
        starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
        sizes = np.diff(np.r_[starts, n])
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) - np.repeat(starts, sizes)
        over = rank >= capacity
        if not over.any():
            break
        num_day[over] = 1 + rng.integers(0, 28, int(over.sum()))
    # Random affine map rank -> slot per group: stride coprime with the capacity.
    group_of = np.empty(n, dtype=np.int64)
    group_of[order] = np.repeat(np.arange(starts.size), sizes)
    strides_boys = np.array([k for k in range(1, 500) if k % 2 and k % 5], dtype=np.int64)
    stride = np.where(
        sex == 1,
        strides_boys[rng.integers(0, strides_boys.size, starts.size)][group_of],
        rng.integers(1, 499, starts.size)[group_of],
    )
    offset = rng.integers(0, 500, starts.size)[group_of]
    slot = np.where(sex == 1, (rank * stride + offset) % 500, 1 + (rank * stride + offset) % 499)
    serial = (slot // 5) * 10 + 2 * (slot % 5) + sex
    return serial, num_day


# ---------------------------------------------------------------------------------------------
# Population


def _zipf(n: int, exponent: float) -> np.ndarray:
    """Zipf weights for a rank-ordered name list (name frequencies are close to Zipf)."""
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def _compound_surnames(taken: set[str]) -> tuple[str, ...]:
    """Rare Swedish compound surnames (Lind+berg) not already among the common ones."""
    out = []
    for prefix in names.SURNAME_PREFIXES:
        for suffix in names.SURNAME_SUFFIXES:
            name = prefix + suffix
            if name not in taken and prefix.lower() != suffix:
                out.append(name)
    return tuple(out)


# Name frequencies. Given names: a flat Zipf (exponent 0.5) over ~100 names puts the commonest
# at about 5 % of children, near SCB's figures for the most popular names of a birth cohort
# (1-2 %) once the cohort's many rarer names are counted in. Surnames: the common list gets
# 55 % of the mass with exponent 0.6 (Andersson about 3 %; SCB: about 2.4 % of the population),
# the compound tail the rest, evenly. Immigrant families' surnames include patronymics (the
# father's given name as surname, as in Somali and Arabic naming).
_GIVEN_EXPONENT = 0.5
_SURNAME_EXPONENT = 0.6
_COMMON_SURNAME_MASS = 0.55


class _Pools:
    """Name tables as polars Series plus each sub-pool's offset and weights."""

    def __init__(self) -> None:
        self.given_parts = (
            names.SWEDISH_GIRLS,
            names.IMMIGRANT_GIRLS,
            names.SWEDISH_BOYS,
            names.IMMIGRANT_BOYS,
        )
        tail = _compound_surnames(set(names.SWEDISH_SURNAMES))
        patronymics = tuple(n for n in names.IMMIGRANT_BOYS if n not in names.IMMIGRANT_SURNAMES)
        self.surname_parts = (
            names.SWEDISH_SURNAMES + tail,
            names.IMMIGRANT_SURNAMES + patronymics,
        )
        common = len(names.SWEDISH_SURNAMES)
        swedish = np.concatenate(
            [
                _COMMON_SURNAME_MASS * _zipf(common, _SURNAME_EXPONENT),
                np.full(len(tail), (1 - _COMMON_SURNAME_MASS) / len(tail)),
            ]
        )
        self.given_weights = [_zipf(len(p), _GIVEN_EXPONENT) for p in self.given_parts]
        self.surname_weights = [
            swedish,
            _zipf(len(self.surname_parts[1]), _SURNAME_EXPONENT),
        ]
        self.given = pl.Series("given", [n for part in self.given_parts for n in part])
        self.surname = pl.Series("surname", [n for part in self.surname_parts for n in part])
        self.given_offsets = np.cumsum([0] + [len(p) for p in self.given_parts])
        self.surname_offsets = np.cumsum([0] + [len(p) for p in self.surname_parts])

    def draw(self, rng: np.random.Generator, pool: np.ndarray, parts: str) -> np.ndarray:
        """Draw one weighted name index per row from the sub-pool given per row."""
        weights = self.given_weights if parts == "given" else self.surname_weights
        offsets = self.given_offsets if parts == "given" else self.surname_offsets
        out = np.empty(pool.shape[0], dtype=np.int64)
        for p, w in enumerate(weights):
            rows = np.flatnonzero(pool == p)
            out[rows] = offsets[p] + rng.choice(w.size, rows.size, p=w)
        return out


@dataclass
class _Children:
    """Column arrays of the generated population (one entry per child)."""

    sex: np.ndarray
    kind: np.ndarray  # 0 personnummer, 1 samordningsnummer, 2 none
    foreign: np.ndarray
    birth: np.ndarray  # datetime64[D], as recorded in birth-date columns
    digits: np.ndarray  # (n, 12) uint8; meaningless where kind == 2
    changed: np.ndarray  # bool: samordningsnummer replaced by a personnummer since
    new_digits: np.ndarray  # (n, 12) uint8: that personnummer, where changed
    given: np.ndarray  # (n, 3) name indices, -1 where absent
    n_given: np.ndarray
    calling: np.ndarray  # 0..2
    surname: np.ndarray  # (n, 2), -1 where single
    hyphen: np.ndarray  # bool: double surname written with a hyphen


def _children(rng: np.random.Generator, cfg: SynthConfig, pools: _Pools) -> _Children:
    n = cfg.children
    ref = np.datetime64(cfg.reference_date, "D")
    sex = rng.integers(0, 2, n)  # 1 = boy (odd third serial digit)
    u = rng.random(n)
    kind = np.where(
        u < cfg.samordningsnummer_share,
        1,
        np.where(u < cfg.samordningsnummer_share + cfg.no_number_share, 2, 0),
    )
    newly_arrived = kind > 0
    foreign = np.where(
        newly_arrived, rng.random(n) < 0.95, rng.random(n) < cfg.foreign_background_share
    )

    # Birth dates giving ages age_min..age_max on the reference date.
    ref_y, ref_m, ref_d = (int(x) for x in str(ref).split("-"))
    hi = np.datetime64(date(ref_y - cfg.age_min, ref_m, min(ref_d, 28)), "D")
    lo = np.datetime64(date(ref_y - cfg.age_max - 1, ref_m, min(ref_d, 28)), "D") + 1
    birth = lo + rng.integers(0, int((hi - lo).astype(np.int64)) + 1, n).astype("timedelta64[D]")
    default = newly_arrived & (rng.random(n) < cfg.default_birth_date_share)
    jan1 = birth.astype("datetime64[Y]").astype("datetime64[D]")
    jul1 = (birth.astype("datetime64[Y]").astype("datetime64[M]") + 6).astype("datetime64[D]")
    birth = np.where(default, np.where(rng.random(n) < 0.5, jan1, jul1), birth)

    year, month, day = _date_digits(birth)
    day_key = kind.astype(np.int64) * 100_000 + (birth - ref).astype(np.int64)
    # Children whose samordningsnummer was replaced by a personnummer get both; all numbers are
    # assigned together so the new ones collide with nobody's.
    changed = (kind == 1) & (rng.random(n) < cfg.number_change_share)
    moved = np.flatnonzero(changed)
    serial_all, num_day_all = _assign_serials(
        rng,
        np.concatenate([day_key, (birth[moved] - ref).astype(np.int64)]),
        np.concatenate([sex, sex[moved]]),
        np.concatenate([day, day[moved]]),
    )
    serial, num_day = serial_all[:n], num_day_all[:n]
    digits = _number_digits(year, month, num_day + np.where(kind == 1, 60, 0), serial)
    new_digits = np.zeros((n, 12), dtype=np.uint8)
    new_digits[moved] = _number_digits(year[moved], month[moved], num_day_all[n:], serial_all[n:])

    # Given names: 1-3, from the Swedish or immigrant pool of the child's sex.
    counts_sw = np.array(cfg.given_name_counts) / sum(cfg.given_name_counts)
    counts_im = np.array(cfg.foreign_given_name_counts) / sum(cfg.foreign_given_name_counts)
    n_given = np.where(
        foreign, rng.choice([1, 2, 3], n, p=counts_im), rng.choice([1, 2, 3], n, p=counts_sw)
    )
    given = np.full((n, 3), -1, dtype=np.int64)
    for i in range(3):
        from_immigrant = foreign & (rng.random(n) < 0.85)
        pool = sex * 2 + from_immigrant.astype(np.int64)
        given[:, i] = pools.draw(rng, pool, "given")
        for _ in range(8):  # no child is called "Anna Anna": redraw clashes
            clash = np.zeros(n, dtype=bool)
            for j in range(i):
                clash |= given[:, i] == given[:, j]
            if not clash.any():
                break
            given[clash, i] = pools.draw(rng, pool[clash], "given")
        given[n_given <= i, i] = -1
    calling = np.zeros(n, dtype=np.int64)
    several = n_given > 1
    not_first = several & (rng.random(n) < cfg.calling_not_first_share)
    calling[not_first] = 1 + (rng.random(int(not_first.sum())) < 0.2) * (n_given[not_first] > 2)

    surname = np.full((n, 2), -1, dtype=np.int64)
    sur_pool = np.where(foreign, rng.random(n) < 0.9, rng.random(n) < 0.03).astype(np.int64)
    surname[:, 0] = pools.draw(rng, sur_pool, "surname")
    first_has_space = pools.surname.gather(surname[:, 0]).str.contains(r"[ \-]").to_numpy()
    double = (rng.random(n) < cfg.double_surname_share) & ~first_has_space
    second_pool = np.where(rng.random(n) < 0.7, 0, 1)
    second = pools.draw(rng, second_pool, "surname")
    second_has_space = pools.surname.gather(second).str.contains(r"[ \-]").to_numpy()
    double &= (second != surname[:, 0]) & ~second_has_space
    surname[double, 1] = second[double]
    hyphen = rng.random(n) < cfg.hyphen_share
    return _Children(
        sex=sex,
        kind=kind,
        foreign=foreign,
        birth=birth,
        digits=digits,
        changed=changed,
        new_digits=new_digits,
        given=given,
        n_given=n_given,
        calling=calling,
        surname=surname,
        hyphen=hyphen,
    )


def _memberships(rng: np.random.Generator, cfg: SynthConfig) -> tuple[np.ndarray, np.ndarray]:
    """Records as (child index, agency index) arrays: agencies drawn without replacement."""
    n, a = cfg.children, len(cfg.agencies)
    p = np.array(cfg.agencies_per_child[:a], dtype=np.float64)
    p[-1] += sum(cfg.agencies_per_child[a:])
    m = rng.choice(np.arange(1, a + 1), n, p=p / p.sum())
    weights = np.array([cfg.profiles[x].list_weight for x in cfg.agencies])
    keys = np.log(weights)[None, :] - np.log(-np.log(rng.random((n, a))))  # Gumbel top-k
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    child, agency = np.nonzero(rank < m[:, None])
    means = np.array([cfg.profiles[x].extra_signals_mean for x in cfg.agencies])
    repeats = rng.geometric(1.0 / (1.0 + means[agency]))
    return np.repeat(child, repeats), np.repeat(agency, repeats)
