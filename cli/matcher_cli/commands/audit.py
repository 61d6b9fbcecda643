"""`matcher audit`: run the privacy attack suite on synthetic children and print what it finds.

Everything runs on synthetic people (``matcher.attacks``); nothing reads real exports. With
``--check`` the exit code is 1 when an attack on matcher's files exceeds the bound (CI).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from matcher.errors import ConfigError
from matcher_cli.console import console, reported_errors


def audit_command(
    records: int = typer.Option(2000, "--records", help="Children on the attacked list."),
    seed: int = typer.Option(1, "--seed", help="Seed of the synthetic children."),
    age_min: int = typer.Option(6, "--age-min", help="Youngest age on the list."),
    age_max: int = typer.Option(17, "--age-max", help="Oldest age (the dictionary spans them)."),
    attacks: str = typer.Option(
        "all", "--attacks", help="Comma-separated subset of the suite's attacks, or all."
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Write the figures as JSON."),
    check: bool = typer.Option(
        False, "--check", help="Exit 1 if matcher's files exceed the bound."
    ),
) -> None:
    """Run dictionary, frequency, pattern-mining, graph-matching, cross-round and curious-agency
    attacks on weak baselines and on matcher's hashed files."""
    with reported_errors():
        from matcher.attacks import ATTACKS, SuiteConfig, run_suite

        chosen = ATTACKS if attacks == "all" else tuple(a.strip() for a in attacks.split(","))
        unknown = sorted(set(chosen) - set(ATTACKS))
        if unknown:
            raise ConfigError(
                f"unknown attacks {unknown}; choose from {list(ATTACKS)}", reason="attacks"
            )
        if records < 100 or not 0 <= age_min <= age_max <= 17:
            raise ConfigError("--records must be at least 100, ages 0 to 17", reason="audit")
        config = SuiteConfig(
            records=records, seed=seed, age_min=age_min, age_max=age_max, attacks=chosen
        )
        with console.status("attacking") as status:
            results = run_suite(config, progress=lambda msg: status.update(msg))
        table = Table(title=f"attacks on {records} synthetic children")
        for header in ("attack", "target", "column", "re-identified", "share", "x chance", "bound"):
            table.add_column(header, justify="right" if header in {"share", "x chance"} else "left")
        for r in results:
            bound = (
                "-"
                if r.attack == "curious_agency" or r.target == "baseline"
                else ("ok" if r.within_bound() else "[bold red]over[/]")
            )
            table.add_row(
                r.attack,
                r.target,
                r.column,
                f"{r.reidentified}/{r.records}",
                f"{100 * r.share:.2f} %",
                f"{r.over_chance:.1f}",
                bound,
            )
        console.print(table)
        if json_path is not None:
            json_path.write_text(json.dumps([r.as_dict() for r in results], indent=2) + "\n")
        over = [
            r
            for r in results
            if r.target == "matcher" and r.attack != "curious_agency" and not r.within_bound()
        ]
        if check and over:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``matcher audit`` to the application."""
    app.command("audit")(audit_command)
