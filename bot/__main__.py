"""`python -m bot` is the `billbot` command."""

from bot.cli import main

main()
