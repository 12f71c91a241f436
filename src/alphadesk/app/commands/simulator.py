"""``alphadesk simulator``: serve a local Bybit V5 exchange replaying candle files.

See :mod:`alphadesk.simulator` for the endpoints and topics it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from alphadesk.domain.errors import InvalidField

if TYPE_CHECKING:
    from alphadesk.simulator import Simulator

log = logging.getLogger("alphadesk.simulator")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulator",
        help="serve a local Bybit V5 REST + WebSocket simulator on replayed candles",
        description="A local Bybit V5 exchange (REST, public and private WebSocket, /sim "
        "control) that replays candle files and matches orders with the paper engine.",
    )
    parser.add_argument("--port", type=int, default=8765, help="TCP port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", nargs="+", required=True, metavar="CANDLES",
                        help="candle CSV files; the symbol is the file name's prefix")
    parser.add_argument("--speed", type=float, default=None,
                        help="simulated seconds per real second (default: stepped clock, "
                        "moved by POST /sim/advance)")
    parser.add_argument("--start-ms", type=int, default=None, help="replay start (epoch ms)")
    parser.add_argument("--history-bars", type=int, default=200,
                        help="closed bars behind the start when --start-ms is not given")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--accounts", metavar="FILE", help="TOML file of [[account]] tables")
    keys.add_argument("--account", action="append", metavar="KEY:SECRET",
                      help="an account (repeatable); with none, only public market data is "
                      "served and private endpoints answer 10003 like Bybit for an unknown key")
    parser.set_defaults(handler=run)


async def serve(args: argparse.Namespace, stop: asyncio.Event | None = None) -> int:
    """Serve until SIGINT/SIGTERM, or until ``stop`` is set when one is given (in-process)."""
    from alphadesk.simulator import load_accounts, parse_account, run_simulator

    if args.accounts:
        accounts = load_accounts(args.accounts)
    else:
        accounts = [parse_account(spec) for spec in args.account or []]
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
    async with run_simulator(args.data, accounts, host=args.host, port=args.port,
                             speed=args.speed, start_ms=args.start_ms,
                             history_bars=args.history_bars) as sim:
        symbols = ", ".join(sorted(sim.exchange.instruments))
        names = ", ".join(a.name for a in sim.exchange.accounts.values())
        print(f"simulator: {sim.base_url} (ws {sim.ws_url}) symbols {symbols}; "
              f"accounts {names or 'none (public market data only)'}", flush=True)
        log.info("serving %s: symbols %s; accounts %s", sim.base_url, symbols, names or "none")
        for line in served_urls(sim):
            print(f"  {line}", flush=True)
        await stop.wait()
    return 0


def served_urls(sim: Simulator) -> list[str]:
    """What a user points a client at: REST, the two WebSockets and the control API."""
    return [
        f"REST        {sim.base_url}/v5/...",
        f"public WS   {sim.public_ws_url}",
        f"private WS  {sim.private_ws_url}",
        f"control     {sim.control_url}/state, {sim.control_url}/advance, "
        f"{sim.control_url}/faults",
    ]


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(serve(args))
    except (InvalidField, OSError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
