"""`python -m nemotron.kit.cli`."""

from nemotron.kit.cli import main

main()
