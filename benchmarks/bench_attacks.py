"""Privacy attack suite at several list sizes: re-identification on weak baselines and on matcher.

For each size it runs ``matcher.attacks.run_suite`` (dictionary, frequency alignment, pattern
mining, graph matching, cross-round linking, curious agency) and prints, per attack and column,
the records re-identified as a share of the list and as a ratio to chance (guessing the most
frequent value for every record), measured in the same run, baseline beside matcher.

Usage: ``python benchmarks/bench_attacks.py --records 2000,20000 --json out.json``
(``--attacks frequency,graph_matching`` runs a subset; sizes over 20k take minutes).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from matcher.attacks import ATTACKS, SuiteConfig, run_suite


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="2000,20000", help="comma-separated list sizes")
    parser.add_argument("--attacks", default=",".join(ATTACKS))
    parser.add_argument("--age-min", type=int, default=6)
    parser.add_argument("--age-max", type=int, default=17)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    figures: list[dict[str, object]] = []
    for size in (int(s) for s in args.records.split(",")):
        started = time.perf_counter()
        config = SuiteConfig(
            records=size,
            seed=args.seed,
            age_min=args.age_min,
            age_max=args.age_max,
            attacks=tuple(args.attacks.split(",")),
        )
        results = run_suite(config)
        print(f"\n{size} records ({time.perf_counter() - started:.1f} s)")
        print(
            f"{'attack':16}{'target':10}{'column':28}{'re-identified':>16}{'share':>9}"
            f"{'x chance':>10}  bound"
        )
        for r in results:
            bound = (
                "-"
                if r.target == "baseline" or r.attack == "curious_agency"
                else ("ok" if r.within_bound() else "OVER")
            )
            print(
                f"{r.attack:16}{r.target:10}{r.column:28}{r.reidentified:>8}/{r.records:<7}"
                f"{100 * r.share:>8.2f}%{r.over_chance:>10.1f}  {bound}"
            )
            figures.append({"size": size, **r.as_dict()})
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
