"""``alphadesk db backup`` and ``alphadesk db restore``: wiring for :mod:`adapters.storage.backup`.

The database is ``--database-url``, else ``$BACKUP_DATABASE_URL`` (the direct PostgreSQL URL a
deployment keeps beside the pooled ``DATABASE_URL``), else ``$DATABASE_URL``. On PostgreSQL it
must reach the server itself, not PgBouncer (see the adapter's docstring for why); the error says
so. Exit status: 0 done, 1 the backup or restore could not be done (the line says why), 2 a flag
or variable that cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alphadesk.adapters.storage import backup as backups
from alphadesk.adapters.storage.urls import DatabaseUrl, parse
from alphadesk.app.settings import SettingsError
from alphadesk.domain.errors import InvalidField

BACKUP_URL_VAR = "BACKUP_DATABASE_URL"
PG_BIN_VAR = "ALPHADESK_PG_BIN"


def register_actions(actions: Any) -> None:
    """Add ``backup`` and ``restore`` to the ``db`` command's actions."""
    make = actions.add_parser(
        "backup", help="write a backup of the ledger (pg_dump -Fc, or SQLite's backup API)",
    )
    make.add_argument("--to", default=None, metavar="PATH",
                      help="a folder (default ./backups/) or a file name for the backup")
    make.add_argument("--keep", type=int, default=None, metavar="N",
                      help="then delete all but the newest N backups of this database there")
    make.add_argument("--database-url", "--url", dest="url", default=None,
                      help=f"database URL (default: ${BACKUP_URL_VAR}, else $DATABASE_URL)")
    make.add_argument("--every", default=None, metavar="DURATION",
                      help="keep running: a backup now and then at this interval (e.g. 24h) "
                           "until stopped; a failed one is reported and the next one tried")
    make.set_defaults(handler=run_backup)
    back = actions.add_parser("restore", help="restore a backup into an empty database")
    back.add_argument("path", type=Path, help="the backup file (.dump or .sqlite3)")
    back.add_argument("--database-url", "--url", dest="url", default=None,
                      help=f"database URL (default: ${BACKUP_URL_VAR}, else $DATABASE_URL)")
    back.add_argument("--replace", action="store_true",
                      help="restore over a database that already holds a ledger")
    back.set_defaults(handler=run_restore)


def _url(flag_value: str | None) -> tuple[DatabaseUrl, str]:
    if flag_value:
        source, raw = "--database-url", flag_value
    elif os.environ.get(BACKUP_URL_VAR):
        source, raw = BACKUP_URL_VAR, os.environ[BACKUP_URL_VAR]
    else:
        source, raw = "DATABASE_URL", os.environ.get("DATABASE_URL") or ""
    try:
        return parse(raw or None), source
    except InvalidField as exc:
        raise SettingsError(f"{source}={exc.value!r}: {exc.reason}") from None


def _pg_bin() -> Path | None:
    raw = os.environ.get(PG_BIN_VAR)
    if not raw:
        return None
    if not Path(raw).is_dir():
        raise SettingsError(f"{PG_BIN_VAR}={raw!r}: not a folder")
    return Path(raw)


def _destination(raw: str | None, url: DatabaseUrl, now: datetime) -> Path:
    """A folder (existing, or written with a trailing slash, or the default) gets a dated file
    name; anything else is the file itself."""
    name = backups.file_name(backups.database_name(url), url.kind, now)
    if raw is None:
        backups.DEFAULT_FOLDER.mkdir(parents=True, exist_ok=True)
        return backups.DEFAULT_FOLDER / name
    to = Path(raw)  # a Path forgets the trailing slash that says "a folder"
    if to.is_dir():
        return to / name
    if raw.endswith(("/", os.sep)):
        to.mkdir(parents=True, exist_ok=True)
        return to / name
    return to


def run_backup(args: argparse.Namespace) -> int:
    from alphadesk.app.commands.sync import parse_every

    try:
        url, source = _url(args.url)
        pg_bin = _pg_bin()
        if args.keep is not None and args.keep < 1:
            raise SettingsError(f"--keep={args.keep}: must be at least 1")
        every = parse_every(args.every) if args.every else None
        _destination(args.to, url, datetime.now(UTC))  # the folder can be made
    except (SettingsError, ValueError) as exc:
        print(f"db backup: {exc}", file=sys.stderr)
        return 2
    if every is None:
        return asyncio.run(_once(args, url, source, pg_bin))
    try:
        return asyncio.run(_every(args, url, source, pg_bin, every))
    except KeyboardInterrupt:
        return 130


async def _once(args: argparse.Namespace, url: DatabaseUrl, source: str,
                pg_bin: Path | None) -> int:
    dest = _destination(args.to, url, datetime.now(UTC))
    try:
        made = await backups.backup(url, dest, source=source, pg_bin=pg_bin)
        print(f"{url.redacted}: backed up to {made.path} ({made.size:,} bytes)", flush=True)
        if args.keep is not None:
            gone = backups.prune(made.path.parent, backups.database_name(url), args.keep)
            for path in gone:
                print(f"deleted {path} (keeping the newest {args.keep})", flush=True)
    except backups.BackupError as exc:
        print(f"db backup: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


async def _every(args: argparse.Namespace, url: DatabaseUrl, source: str, pg_bin: Path | None,
                 every_s: float) -> int:
    """The scheduled backup a deployment runs as a service (no cron needed): one now, then one
    per interval, until SIGINT/SIGTERM; exit 0 when stopped, whatever a single run did."""
    import contextlib
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        await _once(args, url, source, pg_bin)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)
    return 0


def run_restore(args: argparse.Namespace) -> int:
    try:
        url, source = _url(args.url)
        pg_bin = _pg_bin()
    except SettingsError as exc:
        print(f"db restore: {exc}", file=sys.stderr)
        return 2
    try:
        done = asyncio.run(backups.restore(args.path, url, where=source, replace=args.replace,
                                           pg_bin=pg_bin))
    except backups.BackupError as exc:
        print(f"db restore: {exc}", file=sys.stderr)
        return 1
    print(f"{url.redacted}: restored {args.path}: {done.fills} fills, {done.round_trips} round "
          f"trips, {done.bots} bots")
    return 0
