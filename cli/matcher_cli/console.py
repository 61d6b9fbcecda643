"""One rich console for the CLI, progress bars, and the exit code each MatcherError carries."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from matcher.errors import MatcherError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a MatcherError into a one-line red message and a non-zero exit, never a traceback."""
    try:
        yield
    except MatcherError as exc:
        # escape(): a message may hold brackets ("[server]") that rich would take for markup
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        raise typer.Exit(130) from None


def progress(transient: bool = False) -> Progress:
    """A progress bar suited to long row-wise work (hashing, matching)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
        disable=not sys.stderr.isatty(),
    )
