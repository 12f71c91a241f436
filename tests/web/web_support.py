"""Serving the real web app over a real socket in the test's event loop, and logging in to it.

The app is :func:`alphadesk.web.server.create_app` over the real control facade (the control
tests' seeded ledger, ``control.control_support``); uvicorn listens on 127.0.0.1:0 and clients talk
HTTP to it (aiohttp in API tests, Chromium in browser tests).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn

from alphadesk.web import config as web_config
from alphadesk.web.server import create_app

ADMIN_PW = "admin-secret-pw-1"
VIEWER_PW = "viewer-secret-pw-2"
ADMIN_TOKEN = "admin-token-0123456789abcdef"
VIEWER_TOKEN = "viewer-token-0123456789abcdef"


def web_env(backtests: Path | None = None, **extra: str) -> dict[str, str]:
    env = {
        "ALPHADESK_WEB_ADMIN_PASSWORD": ADMIN_PW,
        "ALPHADESK_WEB_VIEWER_PASSWORD": VIEWER_PW,
        "ALPHADESK_WEB_ADMIN_TOKEN": ADMIN_TOKEN,
        "ALPHADESK_WEB_VIEWER_TOKEN": VIEWER_TOKEN,
        "ALPHADESK_WEB_POLL_S": "0.5",
    }
    if backtests is not None:
        env["ALPHADESK_WEB_BACKTESTS"] = str(backtests)
    env.update(extra)
    return env


@asynccontextmanager
async def serve(control: Any, bus: Any, env: dict[str, str],
                clock: Callable[[], float] | None = None) -> AsyncIterator[str]:  # fmt: skip
    """The app on a free port; yields its base URL (no trailing slash)."""
    config = web_config.load(env, host="127.0.0.1", port=0)
    app = create_app(control, bus, config, **({"clock": clock} if clock else {}))
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=2,
    ))  # fmt: skip
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # wait for the condition (bounded), not a guessed duration
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(http: aiohttp.ClientSession, base: str, user: str, password: str) -> dict[str, str]:
    """Log in with the form; returns the headers of that session (cookie + CSRF token).

    The cookie is carried by hand: it is ``Secure`` (browsers send it to loopback over http,
    aiohttp's jar does not)."""
    async with http.post(f"{base}/login", data={"username": user, "password": password},
                         allow_redirects=False) as res:  # fmt: skip
        assert res.status == 303, await res.text()
        cookie = res.headers["Set-Cookie"]
    assert "httponly" in cookie.lower() and "secure" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    match = re.match(r"(alphadesk_session=[^;]+)", cookie)
    assert match is not None
    headers = {"Cookie": match.group(1)}
    async with http.get(f"{base}/api/v1/session", headers=headers) as res:
        assert res.status == 200
        session = await res.json()
    if session["csrf"]:
        headers["X-CSRF-Token"] = session["csrf"]
    return headers
