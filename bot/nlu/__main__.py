"""`python -m bot.nlu parse|predict|eval …`: the `billbot nlu` commands without the full CLI."""

from __future__ import annotations

import argparse
import sys

from bot.nlu.cli import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["nlu", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
