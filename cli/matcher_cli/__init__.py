"""The `matcher` command line: thin typer front end over the matcher library."""
