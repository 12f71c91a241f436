"""The ``alphadesk`` console script."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from alphadesk.app.commands import COMMANDS

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alphadesk",
        description="AlphaDesk: several trading strategies on Bybit, one ledger you can trust.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"alphadesk.app.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"alphadesk.app.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
