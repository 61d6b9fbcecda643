"""`matcher serve`: run the coordinator service (uvicorn), showing a generated token once."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.panel import Panel

from matcher.extras import require_extra
from matcher_cli.console import console, reported_errors


def show_token(token: str, path: Path) -> None:
    """Show a generated coordinator token on the terminal, never on a captured stdout.

    The token is always in ``path`` (mode 0600); it is printed only when stdout is a terminal,
    since a service manager's log would otherwise keep it.
    """
    note = (
        "This is shown once and stored only as a hash. Keep it safe; "
        "`matcher serve --new-coordinator-token` replaces it."
    )
    if sys.stdout.isatty():
        console.print(Panel(f"{token}\n\n{note}", title="coordinator token"))
        console.print(f"(also written to {path}, readable only by you: delete it once kept)")
    else:
        console.print(
            f"generated a coordinator token, written to {path} (readable only by this user); "
            "it is not printed here because this output is not a terminal"
        )


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    rotate_token: bool = typer.Option(
        False, "--new-coordinator-token", help="Replace a generated coordinator token (lost it?)."
    ),
    ssl_certfile: Path | None = typer.Option(
        None, "--ssl-certfile", help="Serve HTTPS with this certificate (PEM; with --ssl-keyfile)."
    ),
    ssl_keyfile: Path | None = typer.Option(
        None, "--ssl-keyfile", help="The certificate's private key (PEM)."
    ),
) -> None:
    """Start the coordinator service; settings come from MATCHER_* environment variables."""
    with reported_errors():
        require_extra("server", what="matcher serve")
        import uvicorn
        from pydantic import ValidationError

        from matcher.errors import ConfigError
        from matcher_api.main import create_app, prepare_database, write_token_file
        from matcher_api.settings import get_settings
        from matcher_cli.client import is_loopback_host

        try:
            settings = get_settings()
        except ValidationError as exc:
            # pydantic's messages name the rule, never the value: safe to show.
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(
                f"invalid MATCHER_* settings: {problems}", reason="settings"
            ) from None
        certfile, keyfile = _tls_files(ssl_certfile, ssl_keyfile)
        tls = certfile is not None
        token = prepare_database(settings, rotate_token=rotate_token)
        if token is not None:
            show_token(token, write_token_file(settings, token))
        scheme = "https" if tls else "http"
        console.print(f"matcher coordinator service on {scheme}://{host}:{port} (docs at /docs)")
        if not tls and not is_loopback_host(host):
            console.print(
                "[bold]warning:[/] serving plain HTTP on a network interface: tokens cross the "
                "network unencrypted; use --ssl-certfile/--ssl-keyfile or a TLS reverse proxy"
            )
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            access_log=False,
            timeout_graceful_shutdown=10,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )


def _tls_files(certfile: Path | None, keyfile: Path | None) -> tuple[str | None, str | None]:
    """uvicorn's TLS arguments (both None: plain HTTP), after checking the files are given."""
    from matcher.errors import ConfigError

    if certfile is None and keyfile is None:
        return None, None
    if certfile is None or keyfile is None:
        raise ConfigError("give both --ssl-certfile and --ssl-keyfile, or neither", reason="tls")
    for path in (certfile, keyfile):
        if not path.is_file():
            raise ConfigError("TLS file not found", file=path, reason="tls")
    return str(certfile), str(keyfile)


def register(app: typer.Typer) -> None:
    """Attach `matcher serve`."""
    app.command("serve")(serve_command)
