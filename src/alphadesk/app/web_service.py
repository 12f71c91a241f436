"""The dashboard as a service: the web app over a facade built from the settings, served by
uvicorn until cancelled or signalled.

``alphadesk web`` runs it alone; a composition that runs several services in one process
(``alphadesk run``, the demo) can start :func:`serve_web` as one task beside the others and
pass its own live state, so the dashboard's live feed reads the bus the recorder announces on::

    config = web_config.load()                       # ALPHADESK_WEB_*; refuses an unsafe setup
    task = asyncio.create_task(serve_web(settings, config, database_url=url, state=state,
                                         on_ready=lambda u: print(f"dashboard: {u}")))
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from alphadesk.adapters.redis.state import RedisState
from alphadesk.app.control import open_control
from alphadesk.app.settings import Settings
from alphadesk.web.config import WebConfig
from alphadesk.web.server import create_app


class _Server(uvicorn.Server):
    """Uvicorn's server, but SIGINT/SIGTERM end ``serve`` with a clean return (exit 0) after
    the graceful shutdown, instead of re-raising the signal at the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def url_of(config: WebConfig, port: int) -> str:
    scheme = "https" if config.tls else "http"
    host = f"[{config.host}]" if ":" in config.host else config.host
    return f"{scheme}://{host}:{port}/"


async def serve_web(
    settings: Settings,
    config: WebConfig,
    *,
    database_url: str,
    state: Any = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until stopped. ``state``: the live state to read and command through (default:
    Redis when ``REDIS_URL`` is set, closed on return; without it the facade refuses commands,
    which no bot in another process could read, and the page has no live fills or alerts);
    ``on_ready`` gets the URL once the socket listens (with port 0, the port chosen)."""
    own: Any = None
    if state is None and settings.redis_url:
        own = state = RedisState.from_url(settings.redis_url)
    try:
        async with open_control(settings, database_url=database_url, state=state) as control:
            app = create_app(control, state.bus if state is not None else None, config)
            server = _Server(uvicorn.Config(
                app, host=config.host, port=config.port, log_level="warning", access_log=False,
                ssl_certfile=config.tls_cert, ssl_keyfile=config.tls_key, lifespan="on",
                proxy_headers=False, server_header=False,
            ))  # fmt: skip
            task = asyncio.create_task(server.serve())
            try:
                while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn's flag
                    await asyncio.sleep(0.05)
                if server.started and on_ready is not None:
                    on_ready(url_of(config, server.servers[0].sockets[0].getsockname()[1]))
                await asyncio.shield(task)
            except asyncio.CancelledError:
                server.should_exit = True
                await task
                raise
    finally:
        if own is not None:
            await own.aclose()
