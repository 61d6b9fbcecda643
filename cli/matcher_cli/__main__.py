"""Allow ``python -m matcher_cli``."""

from matcher_cli.app import main

main()
