"""The ``alphadesk`` console script."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from alphadesk.app.commands import COMMANDS
from alphadesk.app.settings import SettingsError
from alphadesk.domain.errors import DomainError

Handler = Callable[[argparse.Namespace], int]

#: Exit codes: 2 for input the user can fix (bad value, bad setting), 1 for anything else.
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alphadesk",
        description="AlphaDesk: several trading strategies on Bybit, one ledger you can trust.",
        epilog="Set ALPHADESK_DEBUG=1 to see the full traceback of an error.",
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
    except (DomainError, SettingsError, ValueError) as exc:
        _report(args.command, exc)
        return EXIT_BAD_INPUT
    except Exception as exc:  # the last stop before the user's terminal
        _report(args.command, exc)
        return EXIT_FAILED


def _report(command: str, exc: BaseException) -> None:
    """One clear line by default; the traceback only when asked, so errors stay readable."""
    if os.environ.get("ALPHADESK_DEBUG"):
        traceback.print_exception(exc)
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    print(f"alphadesk {command}: {type(exc).__name__}: {first_line}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
