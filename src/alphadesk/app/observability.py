"""Wiring of a long-running command's ``/metrics`` page: the flag, its default from the settings
(``ALPHADESK_METRICS_PORT``, off when unset; ``ALPHADESK_METRICS_HOST``, loopback by default),
and serving it for the length of the command. The series themselves are defined in
:mod:`alphadesk.adapters.metrics`."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from alphadesk.app.settings import Settings, SettingsError

if TYPE_CHECKING:  # the adapter loads aiohttp and prometheus_client: only when serving
    from alphadesk.adapters.metrics import DeskMetrics


def add_flag(parser: Any) -> None:
    parser.add_argument(
        "--metrics-port", type=int, default=None, metavar="PORT",
        help="serve Prometheus metrics on http://ALPHADESK_METRICS_HOST:PORT/metrics "
             "(default: $ALPHADESK_METRICS_PORT; off when neither is set; 0 = any free port)",
    )


def port(args: argparse.Namespace, settings: Settings) -> int | None:
    chosen: int | None = getattr(args, "metrics_port", None)
    if chosen is None:
        return settings.metrics_port
    if not 0 <= chosen <= 65_535:
        raise SettingsError(f"--metrics-port={chosen}: must be from 0 to 65535")
    return chosen


@contextlib.asynccontextmanager
async def serving(metrics: DeskMetrics, args: argparse.Namespace,
                  settings: Settings) -> AsyncIterator[int | None]:
    """Serve the page while the block runs (when a port is configured); yields the bound port."""
    chosen = port(args, settings)
    if chosen is None:
        yield None
        return
    bound = await metrics.serve(settings.metrics_host, chosen)  # logs where
    try:
        yield bound
    finally:
        await metrics.close()
