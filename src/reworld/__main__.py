"""`python -m reworld` runs the CLI."""

from reworld.cli.main import main

main()
