"""`python -m bot.cli`: the `govbot` command, as `bot/stack.py` starts the app."""

from bot.cli import main

main()
