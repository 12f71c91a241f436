"""The ``alphadesk`` console script."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from alphadesk.app import logging as desk_logging
from alphadesk.app import settings as desk_settings
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
    """Parse the command line, validate the whole configuration and set up logging (the same for
    every command, before it does any work), then run the command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        desk_settings.parse_bool("ALPHADESK_DEBUG", os.environ.get("ALPHADESK_DEBUG"))
        settings = desk_settings.load()
    except SettingsError as exc:
        _report(args.command, exc)
        return EXIT_BAD_INPUT
    log_format = settings.log_format
    if not os.environ.get("LOG_FORMAT"):  # unset: the command's own default (a person's: text)
        log_format = getattr(args, "log_format", None) or log_format
    with desk_logging.installed(
        settings.log_level, settings.secrets(), log_format=log_format,
        log_file=settings.log_file, file_max_bytes=settings.log_file_max_mb * 1024 * 1024,
    ):
        return _run(handler, args)


def _run(handler: Handler, args: argparse.Namespace) -> int:
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
    """One clear line by default; the traceback only when asked, so errors stay readable. The
    line goes through the same secret masking as the logs: a library's message may echo one."""
    try:
        debug = desk_settings.parse_bool("ALPHADESK_DEBUG", os.environ.get("ALPHADESK_DEBUG"))
    except SettingsError:
        debug = False
    if debug:
        traceback.print_exception(exc)
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    line = f"alphadesk {command}: {type(exc).__name__}: {first_line}"
    print(desk_logging.redact(line, _secret_values()), file=sys.stderr)


def _secret_values() -> list[str]:
    """The configured secrets' values, when the configuration can be read at all."""
    try:
        secrets = desk_settings.load().secrets()
    except SettingsError:
        return []
    return desk_logging.secret_values(secrets)


if __name__ == "__main__":
    raise SystemExit(main())
