"""The follow-up report over rounds and time, every count suppressed through one ledger.

All case counts (by number of agencies, by agency combination, discussed within N days, with an
agreed action, with every action done by its due date) are sums over one set of atoms - cases by
round, agency combination and the three indicators - so the ledger sees every way the tables
overlap. Records per agency and round go through a second ledger of their own. Times (earliest
signal to meeting and to the first action done) are medians and quartiles, shown only for rounds
with at least ``threshold`` cases with both dates.

:func:`build_report` also returns what went out (:class:`PublishedCell` per ledger) and takes what
went out before, so a report after an edit cannot be subtracted from one before it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from datetime import date
from typing import Any, cast

import numpy as np

from matcher.followup.model import ActionStatus, CaseFollowUp
from matcher.followup.suppression import Cell, Ledger, PublishedCell, cross_table, shown_cells

INDICATORS: tuple[str, ...] = ("discussed_within", "agreed_action", "done_by_due")
CASES_LEDGER = "cases"
RECORDS_LEDGER = "records"


@dataclasses.dataclass(frozen=True)
class Report:
    """A report's JSON-ready body and, per ledger, the cells it showed (for the next report)."""

    body: dict[str, Any]
    published: dict[str, list[PublishedCell]] = dataclasses.field(default_factory=dict)


def cases_ledger_name(within_days: int) -> str:
    """The ledger of case counts: its atoms depend on ``within_days`` (one indicator does)."""
    return f"{CASES_LEDGER}:{within_days}"


def _indicators(case: CaseFollowUp, within_days: int) -> tuple[bool, bool, bool]:
    discussed = (
        case.meeting_date is not None and (case.meeting_date - case.round_date).days <= within_days
    )
    live = [a for a in case.actions if a.status is not ActionStatus.CANCELLED]
    done = bool(live) and all(a.done_in_time() for a in live)
    return discussed, bool(live), done


def case_atoms(cases: Sequence[CaseFollowUp], within_days: int) -> Counter[Hashable]:
    """The finest case counts every case table sums: cases per (round, agency combination,
    discussed within ``within_days``, with an agreed action, every action done by its due)."""
    return Counter(
        (c.round_id, "+".join(sorted(c.agencies)), *_indicators(c, within_days)) for c in cases
    )


def _grid(cells: Sequence[Cell], threshold: int) -> dict[str, dict[str, int | str]]:
    grid: dict[str, dict[str, int | str]] = {}
    for c in cells:
        row, col = (str(x) for x in c.label)
        grid.setdefault(row, {})[col] = c.shown(threshold)
    return grid


def _days(values: list[int], threshold: int) -> dict[str, Any]:
    if len(values) < threshold:
        return {"n": f"<{threshold}" if values else 0, "q1": None, "median": None, "q3": None}
    q1, med, q3 = np.quantile(np.array(values), [0.25, 0.5, 0.75], method="nearest")
    return {"n": f">={threshold}", "q1": int(q1), "median": int(med), "q3": int(q3)}


def follow_up_report(
    cases: Sequence[CaseFollowUp],
    *,
    records: Mapping[tuple[str, str], int] | None = None,
    within_days: int = 30,
    threshold: int = 5,
    show_rounds: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Suppressed tables and time quantiles for the cases' rounds; JSON-ready, no case ids."""
    return build_report(
        cases,
        records=records,
        within_days=within_days,
        threshold=threshold,
        show_rounds=show_rounds,
    ).body


def build_report(
    cases: Sequence[CaseFollowUp],
    *,
    records: Mapping[tuple[str, str], int] | None = None,
    within_days: int = 30,
    threshold: int = 5,
    show_rounds: Sequence[str] | None = None,
    prior: Mapping[str, Sequence[PublishedCell]] | None = None,
) -> Report:
    """The report and what it showed; ``prior`` is what earlier reports showed, per ledger.

    With ``show_rounds``, suppression is decided over all of ``cases`` and only those rounds'
    rows are returned (no total row): any number of such reports, overlapping or not, are then
    all parts of one safe publication, so none can be subtracted from another to expose a count.
    With ``prior``, earlier cells whose counts still hold join that publication, so a report
    after an edit is safe against the reports before it.
    """
    prior = prior or {}
    keep = set(show_rounds) if show_rounds is not None else None

    def went_out(cells: list[Cell]) -> list[PublishedCell]:
        out = [c for c in cells if keep is None or c.label[0] in keep]
        return shown_cells(out)

    published: dict[str, list[PublishedCell]] = {}
    rounds = sorted({c.round_id for c in cases})
    combos = sorted({"+".join(sorted(c.agencies)) for c in cases})
    sizes = sorted({len(c.agencies) for c in cases})
    atoms = case_atoms(cases, within_days)
    ledger = Ledger(dict(atoms), threshold)
    cases_name = cases_ledger_name(within_days)
    ledger.remember(prior.get(cases_name, ()))
    keys = list(atoms)

    def where(**want: object) -> frozenset[Hashable]:
        def ok(k: Hashable) -> bool:
            r, combo, *flags = cast(tuple[Any, ...], k)
            fields = {"round": r, "combo": combo, "size": combo.count("+") + 1}
            fields |= dict(zip(INDICATORS, flags, strict=True))
            return all(fields[f] == v for f, v in want.items())

        return frozenset(k for k in keys if ok(k))

    tables: dict[str, Any] = {}
    specs: list[tuple[str, str, Sequence[Any]]] = [
        ("cases_by_number_of_agencies", "size", sizes),
        ("cases_by_agency_combination", "combo", combos),
        *((f"cases_{ind}", ind, [True, False]) for ind in INDICATORS),
    ]
    for name, field, values in specs:
        cells = [((r, v), where(round=r, **{field: v})) for r in rounds for v in values]
        cells += [((r, "total"), where(round=r)) for r in rounds]
        cells += [(("total", v), where(**{field: v})) for v in values]
        cells.append((("total", "total"), frozenset(keys)))
        shown = ledger.publish(cells)
        published.setdefault(cases_name, []).extend(went_out(shown))
        tables[name] = _grid(shown, threshold)
    if records:
        agencies = sorted({a for _, a in records})
        rec_ledger = Ledger({(r, a): n for (r, a), n in records.items()}, threshold)
        rec_ledger.remember(prior.get(RECORDS_LEDGER, ()))
        rec_rounds = sorted({r for r, _ in records})
        for r in rec_rounds:
            for a in agencies:
                rec_ledger.atoms.setdefault((r, a), 0)
        shown = cross_table(rec_ledger, rec_rounds, agencies)
        published[RECORDS_LEDGER] = went_out(shown)
        tables["records_by_round_and_agency"] = _grid(shown, threshold)
    shares = {}
    for ind in INDICATORS:
        t = tables[f"cases_{ind}"]
        shares[ind] = {
            r: (
                round(t[r]["True"] / t[r]["total"], 3)
                if isinstance(t[r]["True"], int)
                and isinstance(t[r]["total"], int)
                and t[r]["total"]
                else None
            )
            for r in rounds
        }
    times: dict[str, dict[str, Any]] = {
        "signal_to_meeting_days": {},
        "signal_to_first_action_days": {},
    }
    for r in rounds:
        mine = [c for c in cases if c.round_id == r and c.earliest_signal is not None]
        to_meeting = [(c.meeting_date - c.earliest_signal).days for c in mine if c.meeting_date]  # type: ignore[operator]
        firsts = [
            (min(a.done_on for a in c.actions if a.done_on) - c.earliest_signal).days  # type: ignore[operator]
            for c in mine
            if any(a.done_on for a in c.actions)
        ]
        times["signal_to_meeting_days"][r] = _days(to_meeting, threshold)
        times["signal_to_first_action_days"][r] = _days(firsts, threshold)
    if keep is not None:
        rounds = [r for r in rounds if r in keep]
        tables = {n: {r: g[r] for r in rounds if r in g} for n, g in tables.items()}
        shares = {i: {r: v[r] for r in rounds} for i, v in shares.items()}
        times = {m: {r: v[r] for r in rounds} for m, v in times.items()}
    body = {
        "threshold": threshold,
        "within_days": within_days,
        "rounds": rounds,
        "tables": tables,
        "shares": shares,
        "times": times,
        "note": "'<N' = below the threshold; 'x' = withheld so that no small count can be derived",
    }
    return Report(body, published)


def period_cases(cases: Sequence[CaseFollowUp], start: date, end: date) -> list[CaseFollowUp]:
    """The cases of rounds dated within ``[start, end]``."""
    return [c for c in cases if start <= c.round_date <= end]
