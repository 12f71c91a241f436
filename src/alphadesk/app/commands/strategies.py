"""``alphadesk strategies``: every strategy this install can run, with its timeframe and params.

Built-ins first, then the ``alphadesk.strategies`` entry points of installed packages; a file of
your own (``--strategy path/to/file.py:ClassName``) is described with ``--file``.
"""

from __future__ import annotations

import argparse
from typing import Any

from alphadesk.app.logging import HUMAN
from alphadesk.strategies import STRATEGIES
from alphadesk.strategies.catalog import describe, infos, render, resolve


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "strategies", help="list the strategies with their timeframe, parameters and defaults"
    )
    p.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="FILE.py:Class",
        help="also describe a strategy class in a file of your own",
    )
    p.set_defaults(handler=handle, log_format=HUMAN)


def handle(args: argparse.Namespace) -> int:
    entries = infos(STRATEGIES)
    for spec in args.file:
        cls = resolve(spec, STRATEGIES)
        entries.append(describe(cls.name, f"--strategy {spec}", cls))
    print(render(entries))
    return 0
