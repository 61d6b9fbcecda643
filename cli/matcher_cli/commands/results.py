"""`matcher results`: download this agency's case view and turn refs into its own record ids.

The join with the local map (and, with ``--export``, with the agency's own export for the
child's name, identity number and birth date) happens here, on the steward's machine, through
`matcher.reidentify`: only refs and case ids cross the network, and the meeting list never
leaves the agency. The export is read only after the download, and only into the local file.
"""

from __future__ import annotations

from pathlib import Path

import typer

from matcher.errors import ConfigError, OutputExistsError
from matcher.reidentify import meeting_list, read_map, write_meeting_list
from matcher.steward.exports import read_export
from matcher_cli.commands.inspect import loud_warnings, reading_options
from matcher_cli.console import console, reported_errors


def results_command(
    round_id: str = typer.Option(..., "--round", help="Round id."),
    map_path: Path = typer.Option(
        ..., "--map", exists=True, dir_okay=False, help="The local map written by `matcher hash`."
    ),
    out: Path = typer.Option(..., "--out", help="Meeting list to write: .xlsx or .csv."),
    export: Path | None = typer.Option(
        None,
        "--export",
        exists=True,
        dir_okay=False,
        help="Your export that was hashed: adds name, identity number and birth date (locally).",
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="TOML column mapping file used for --export."
    ),
    column: list[str] | None = typer.Option(
        None, "--column", help='Map a header of --export to a field: "Header=field".'
    ),
    encoding: str | None = typer.Option(None, "--encoding", help="--export's encoding."),
    separator: str | None = typer.Option(None, "--separator", help="--export's separator."),
    sheet: str | None = typer.Option(None, "--sheet", help="--export's Excel sheet."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out file."),
    token: str | None = typer.Option(
        None, "--token", help="This agency's token (or MATCHER_TOKEN)."
    ),
    server: str | None = typer.Option(None, "--server", help="Service URL (or MATCHER_SERVER)."),
) -> None:
    """Fetch this agency's cases and write a meeting list of its own records per case."""
    with reported_errors():
        from matcher_cli.client import MatcherClient, client_settings

        if out.suffix.lower() not in (".csv", ".xlsx"):
            raise ConfigError("--out must end in .csv or .xlsx", reason="out_format")
        if out.exists() and not overwrite:
            raise OutputExistsError("output file exists; pass --overwrite to replace it", file=out)
        options, columns = reading_options(mapping, column, encoding, separator, sheet)
        local_map = read_map(map_path)
        with MatcherClient(client_settings(server, token)) as client:
            view = client.own_results(round_id)
        export_frame = None
        if export is not None:  # read after the download, with no connection open
            with loud_warnings():
                export_frame = read_export(
                    export,
                    encoding=options.encoding,
                    separator=options.separator,
                    sheet=options.sheet,
                    columns=columns,
                ).frame
        frame = meeting_list(
            view,
            local_map,
            view["disclosure_policy"],
            export_frame=export_frame,
            export_file=export,
        )
        write_meeting_list(frame, out)
        cases = frame["case_id"].n_unique()
        console.print(
            f"{cases} cases with {frame.height} of your records written to {out} "
            f"(agency {view['agency']}, round {round_id})"
        )


def register(app: typer.Typer) -> None:
    """Attach `matcher results`."""
    app.command("results")(results_command)
