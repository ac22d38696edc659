"""`python -m edgewise` runs the CLI."""

from edgewise.cli.main import main

main()
