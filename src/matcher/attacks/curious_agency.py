"""The honest-but-curious agency: a steward uploads its whole roster to learn who is on another
agency's list.

Every steward holds the round secret, so no encoding stops this: the agency hashes real or guessed
children correctly and the service links them like any list. It follows the "curious party with
the key" threat of the PPRL literature (Vatsalan, Christen & Verykios 2013, §3.3 "internal
adversary"; Christen, Ranbaduge & Schnell 2020, §5.4 on participants colluding with their own
data): what it learns is bounded only by the protocol, i.e. what it may upload and what its view
shows. Measured here through the library path the service runs (``link`` then ``build_views``).

Attacker's knowledge: the round secret and the identity of every child on its own upload; it
uploads ``upload`` children with signal dates inside the round's window (the window guard does not
stop an agency that sets its dates). A record of the target's list counts as re-identified when
the curious agency's view puts one of its own records in a case with the target agency.
"""

from __future__ import annotations

import os
from datetime import date
from time import perf_counter

import numpy as np
import polars as pl

from matcher.attacks.population import SIGNAL_DATE, Population
from matcher.attacks.result import AttackResult
from matcher.disclosure import DisclosurePolicy, build_views
from matcher.linkage.linkage import link
from matcher.steward.hashing import hash_records

__all__ = ["curious_agency_attack"]

WINDOW = (date(2026, 4, 1), date(2026, 9, 30))


def curious_agency_attack(
    population: Population,
    *,
    target_share: float = 0.05,
    upload: int | None = None,
    cap: int | None = None,
    policy: DisclosurePolicy = DisclosurePolicy.AGENCIES_ONLY,
    seed: int = 0,
) -> AttackResult:
    """The curious agency ("skola") uploads ``upload`` children of the population (all without
    one), cut to the round's list-size ``cap`` when one is set; the target ("socialtjanst") lists
    ``target_share`` of the children. Detail: how many of the learned carry the target's category.
    """
    started = perf_counter()
    rng = np.random.default_rng(seed)
    n = population.size
    on_target = np.sort(rng.permutation(n)[: max(int(target_share * n), 1)])
    sent = rng.permutation(n)[: upload if upload is not None else n]
    if cap is not None:
        sent = sent[:cap]
    secret = os.urandom(32)
    target_records = population.take(on_target).records.with_columns(signal=pl.lit("orosanmalan"))
    curious_records = population.take(sent).records.with_columns(signal_date=pl.lit(SIGNAL_DATE))
    files, maps = [], []
    for agency, records in (("socialtjanst", target_records), ("skola", curious_records)):
        hashed, local_map = hash_records(records, secret=secret, round_id="audit", agency=agency)
        files.append(hashed)
        maps.append(local_map)
    result = link(files, k=2, window_from=WINDOW[0], window_to=WINDOW[1])
    views, _ = build_views(result.cases, ["socialtjanst", "skola"], policy)
    view = views["skola"].explode("others").unnest("others").explode("records")
    view = view.with_columns(ref=pl.col("records").struct.field("ref"))
    learned = view.filter(pl.col("agency") == "socialtjanst").select("ref", "signals")
    mine = maps[1].join(learned, on="ref")  # the curious agency's own rows it learned about
    children = set(sent[mine["row"].to_numpy()].tolist())
    hit = len(children & set(on_target.tolist()))
    categories = int(mine.filter(pl.col("signals").list.len() > 0)["row"].n_unique())
    label = f"{policy.value}" + (f", cap {cap}" if cap is not None else "")
    return AttackResult(
        attack="curious_agency",
        target="matcher",
        column=label,
        truth="membership",
        records=len(on_target),
        reidentified=hit,
        chance=1,
        seconds=perf_counter() - started,
        detail={"uploaded": float(len(sent)), "with_category": float(categories)},
    )
