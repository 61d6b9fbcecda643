"""The `matcher` typer application: registers each command group module."""

from __future__ import annotations

import importlib

import typer

from matcher import __version__

app = typer.Typer(
    name="matcher",
    help="Find children flagged by several agencies without sharing raw lists (SSPF).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Show the version and exit."),
) -> None:
    """matcher: privacy-preserving multi-agency linkage of weak-signal lists."""
    if version:
        typer.echo(__version__)
        raise typer.Exit()


# One entry per command module in matcher_cli.commands; each exposes ``register(app)``.
COMMAND_MODULES: list[str] = [
    "key",
    "hash",
    "inspect",
    "link",
    "serve",
    "round",
    "upload",
    "results",
    "synth",
    "evaluate",
    "demo",
    "case",
    "report",
    "audit",
]


def _register_commands() -> None:
    """Attach every command group listed in COMMAND_MODULES."""
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"matcher_cli.commands.{name}")
        module.register(app)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()
