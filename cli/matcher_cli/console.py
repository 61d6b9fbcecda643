"""One rich console for the CLI, progress bars, and MatcherError -> exit code mapping."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from matcher.errors import (
    ConfigError,
    InputFileError,
    KeyFileError,
    MatcherError,
    OutputExistsError,
)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXIT_CODES: dict[type[MatcherError], int] = {
    InputFileError: 3,
    ConfigError: 2,
    KeyFileError: 4,
    OutputExistsError: 5,
}


def exit_code_for(error: MatcherError) -> int:
    """The exit code for a matcher error: the most specific class listed wins, else 1."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a MatcherError into a one-line red message and a non-zero exit, never a traceback."""
    try:
        yield
    except MatcherError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        raise typer.Exit(exit_code_for(exc)) from None
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
