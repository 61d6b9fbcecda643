"""`matcher key new --out FILE` and `matcher key fingerprint FILE`: the shared secret's key file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from matcher.steward.keys import fingerprint, new_secret, read_key_file, write_key_file
from matcher_cli.console import console, reported_errors

key_app = typer.Typer(
    help="Create the round secret (key custodian) and compare fingerprints.",
    no_args_is_help=True,
)


@key_app.command("new")
def new_command(
    out: Path = typer.Option(..., "--out", help="Where to write the new key file (mode 0600)."),
) -> None:
    """Create a new 32-byte shared secret; print its fingerprint (never the secret)."""
    with reported_errors():
        secret = new_secret()
        write_key_file(out, secret)
    console.print(f"wrote key file {escape(str(out))} (mode 0600)")
    console.print(f"fingerprint: [bold]{fingerprint(secret)}[/]")
    console.print(
        "Hand the file to each steward out of band (never by e-mail to the coordinator); "
        "stewards compare fingerprints to check they hold the same secret."
    )


@key_app.command("fingerprint")
def fingerprint_command(
    file: Path = typer.Argument(..., help="A key file made by `matcher key new`."),
) -> None:
    """Print the fingerprint of a key file, to compare with the custodian's out loud."""
    with reported_errors():
        secret = read_key_file(file)
    console.print(fingerprint(secret))


def register(app: typer.Typer) -> None:
    """Attach `matcher key`."""
    app.add_typer(key_app, name="key")
