"""``alphadesk web``: the dashboard and REST API (``alphadesk.web``) over the control facade.

``alphadesk web`` serves on ``ALPHADESK_WEB_HOST``:``ALPHADESK_WEB_PORT`` (127.0.0.1:8765 by
default) and refuses to start exposed (another address without TLS or without a password), or
without any login at all. ``alphadesk web hash-password`` prints the scrypt hash of a password
read from stdin, to store in ``ALPHADESK_WEB_ADMIN_PASSWORD`` instead of the clear text.
The facade is built by :func:`alphadesk.app.control.open_control`, the same as Telegram's and the
CLI's; the live feed reads the same state's event bus (Redis with ``REDIS_URL``, else in-process).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("web", help="the dashboard and REST API (/api/v1)")
    parser.add_argument("action", nargs="?", choices=("serve", "hash-password"), default="serve",
                        help="serve (default), or hash-password (the password from stdin)")
    parser.add_argument("--host", default=None,
                        help="bind address (ALPHADESK_WEB_HOST; default 127.0.0.1)")  # fmt: skip
    parser.add_argument("--port", type=_port, default=None,
                        help="port (ALPHADESK_WEB_PORT; default 8765; 0 = any free)")
    parser.set_defaults(handler=run)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"--port={text!r}: must be an integer in [0, 65535]")
    return int(text)


def run(args: argparse.Namespace) -> int:
    if args.action == "hash-password":
        return _hash_password()
    return asyncio.run(_serve(args.host, args.port))


def _hash_password() -> int:
    from alphadesk.web.passwords import hash_password

    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline()
    password = password.rstrip("\r\n")
    if len(password) < 8:
        print("web: the password must have at least 8 characters", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0


async def _serve(host: str | None, port: int | None) -> int:
    from alphadesk.app import settings as app_settings
    from alphadesk.app.commands import checks
    from alphadesk.app.web_service import serve_web
    from alphadesk.web import config as web_config

    try:
        settings = app_settings.load()
        config = web_config.load(host=host, port=port)
        url = await checks.database_async(None, "DATABASE_URL", settings)
    except (app_settings.SettingsError, web_config.WebSettingsError) as exc:
        print(f"web: {exc}", file=sys.stderr)
        return 2
    await serve_web(settings, config, database_url=url,
                    on_ready=lambda u: print(f"web: dashboard at {u} (Ctrl-C stops)", flush=True))
    return 0
