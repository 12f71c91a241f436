"""Backups of the ledger and their restore: ``pg_dump``'s custom format for PostgreSQL, SQLite's
online-backup API for SQLite, and a retention rule for the folder they go to.

Why these two. ``pg_dump -Fc`` takes one consistent snapshot of a live database without stopping
the writers and is what ``pg_restore`` reads back (selectively, in one transaction); SQLite's
backup API (``sqlite3.Connection.backup``) copies a live WAL database page by page under its own
locking, so a copy made while the listener writes is a consistent file, where ``cp`` of the file
and its ``-wal`` could tear.

Why straight to PostgreSQL. The desk reaches PostgreSQL through PgBouncer in transaction mode,
which hands each transaction whichever server connection is free. ``pg_dump`` and ``pg_restore``
set session state outside their transactions (``search_path`` emptied, timeouts off), which under
transaction pooling may land on a connection another client then gets; so a backup or restore
whose URL reaches a pooler is refused: the server then answers on another port than the URL
names (``inet_server_port()``), which is how PgBouncer is recognised.

Secrets: the password is handed to the tools in ``PGPASSWORD``, never on their command line
(which ``ps`` shows), and every message names the database with the password masked.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from alphadesk.adapters.storage.probe import ProbeFailed, masked, probe
from alphadesk.adapters.storage.urls import DatabaseUrl

Kind = Literal["postgresql", "sqlite"]

EXTENSIONS: dict[Kind, str] = {"postgresql": "dump", "sqlite": "sqlite3"}
PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
#: ``alphadesk-<database>-<UTC stamp with milliseconds>.<dump|sqlite3>``; only such files are
#: ever deleted by the retention rule.
NAME_RE = re.compile(
    r"^alphadesk-(?P<database>[A-Za-z0-9_.-]+)-(?P<stamp>\d{8}T\d{9}Z)\.(?P<ext>dump|sqlite3)$"
)
CONNECT_TIMEOUT_S = 10
#: A backup folder kept apart from anything else: the default of ``alphadesk db backup``.
DEFAULT_FOLDER = Path("backups")


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message names why, never a password."""


@dataclass(frozen=True, slots=True)
class BackupFile:
    path: Path
    kind: Kind
    size: int


@dataclass(frozen=True, slots=True)
class Restored:
    kind: Kind
    fills: int
    round_trips: int
    bots: int


def database_name(url: DatabaseUrl) -> str:
    """The name backups of ``url`` carry: the PostgreSQL database, or the SQLite file's stem."""
    if url.kind == "sqlite":
        assert url.sqlite_path is not None
        raw = url.sqlite_path.stem
    else:
        raw = urlsplit(url.asyncpg_dsn).path.lstrip("/") or "postgres"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", raw) or "ledger"


def file_name(database: str, kind: Kind, at: datetime) -> str:
    at = at.astimezone(UTC)
    stamp = at.strftime("%Y%m%dT%H%M%S") + f"{at.microsecond // 1000:03d}Z"
    return f"alphadesk-{database}-{stamp}.{EXTENSIONS[kind]}"


def kind_of(path: Path) -> Kind:
    """What a backup file holds, from its first bytes (the name may have been changed)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BackupError(f"{path}: is a folder, not a backup file") from None
    if head.startswith(PG_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path}: neither a pg_dump custom-format archive nor a SQLite file")


def prune(folder: Path, database: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``database`` in ``folder`` (by the UTC time in
    their names); files of other databases and files not named by :func:`file_name` stay."""
    if keep < 1:
        raise BackupError(f"--keep={keep}: must be at least 1")
    ours = []
    for path in folder.iterdir():
        match = NAME_RE.match(path.name)
        if match and match["database"] == database and path.is_file():
            ours.append((match["stamp"], path))
    ours.sort(reverse=True)
    gone = [path for _, path in ours[keep:]]
    for path in gone:
        path.unlink()
    return gone


# ------------------------------------------------------------------------------------------------
# PostgreSQL


@dataclass(frozen=True, slots=True)
class _Server:
    major: int
    version: str


def _libpq_url(url: DatabaseUrl) -> tuple[str, str | None]:
    """The URL without its password (for the command line) and the password (for the env)."""
    parts = urlsplit(url.asyncpg_dsn)
    password = parts.password
    if password is None:
        return url.asyncpg_dsn, None
    netloc = parts.netloc.replace(f":{password}@", "@", 1)
    return urlunsplit(parts._replace(netloc=netloc)), password


async def _server(url: DatabaseUrl, source: str) -> _Server:
    """Reach the server, refuse a pooler, and say its version."""
    try:
        found = await probe(url, CONNECT_TIMEOUT_S)
    except ProbeFailed as exc:
        raise BackupError(f"{source}={url.redacted!r}: cannot connect: {exc}") from None
    if found.pooled:
        raise BackupError(
            f"{source}={url.redacted!r}: reaches PostgreSQL through a connection pooler (port "
            f"{found.url_port}; the server listens on {found.server_port}): backups and "
            "restores must go straight to PostgreSQL, not through PgBouncer; pass "
            "--database-url with the server's own host and port (or set BACKUP_DATABASE_URL)"
        )
    return _Server(found.server_major, found.server_version)


def _tool(name: str, server_major: int, pg_bin: Path | None) -> Path:
    """``pg_dump``/``pg_restore``: from ``pg_bin`` when given, else the server's major version's
    Debian folder, else ``PATH``."""
    if pg_bin is not None:
        found = shutil.which(name, path=str(pg_bin))
        where = f"ALPHADESK_PG_BIN={str(pg_bin)!r}"
    else:
        debian = Path(f"/usr/lib/postgresql/{server_major}/bin")
        found = shutil.which(name, path=str(debian)) if debian.is_dir() else None
        found = found or shutil.which(name)
        where = "PATH"
    if found is None:
        raise BackupError(
            f"{name} not found on {where}: install the PostgreSQL client tools of the "
            f"server's version (Debian: apt-get install postgresql-client-{server_major})"
        )
    return Path(found)


async def _run(argv: list[str], env: Mapping[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=dict(env), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def _tool_major(tool: Path, server: _Server) -> None:
    code, out, err = await _run([str(tool), "--version"], os.environ)
    match = re.search(r"\)\s+(\d+)", out)
    if code != 0 or match is None:
        raise BackupError(f"{tool}: cannot tell its version ({(out or err).strip()[:200]})")
    major = int(match[1])
    if major < server.major:
        raise BackupError(
            f"{tool} is version {major}, older than the server ({server.version}): install "
            f"postgresql-client-{server.major} or point ALPHADESK_PG_BIN at its bin folder"
        )


def _env(password: str | None) -> dict[str, str]:
    env = {**os.environ, "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S)}
    env.pop("PGPASSWORD", None)
    if password is not None:
        env["PGPASSWORD"] = password
    return env


def _failed(tool: str, code: int, err: str, url: DatabaseUrl) -> BackupError:
    lines = [line for line in masked(err, url).splitlines() if line.strip()]
    detail = "; ".join(lines[-3:]) or f"exit status {code}"
    return BackupError(f"{tool} failed on {url.redacted}: {detail}")


async def _pg_backup(url: DatabaseUrl, dest: Path, source: str, pg_bin: Path | None) -> None:
    server = await _server(url, source)
    tool = _tool("pg_dump", server.major, pg_bin)
    await _tool_major(tool, server)
    target, password = _libpq_url(url)
    partial = dest.with_name(dest.name + ".partial")
    code, _, err = await _run(
        [str(tool), "--format=custom", "--compress=6", f"--file={partial}", f"--dbname={target}"],
        _env(password),
    )
    if code != 0:
        partial.unlink(missing_ok=True)
        raise _failed("pg_dump", code, err, url)
    restore = _tool("pg_restore", server.major, pg_bin)
    code, listing, err = await _run([str(restore), "--list", str(partial)], os.environ)
    if code != 0 or " TABLE " not in listing:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{dest}: the dump pg_dump wrote does not read back ({err.strip()})")
    partial.replace(dest)


async def _pg_has_ledger(url: DatabaseUrl) -> bool:
    import asyncpg

    conn = await asyncpg.connect(url.asyncpg_dsn, timeout=CONNECT_TIMEOUT_S,
                                 statement_cache_size=0)
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'trading'"
        )
    finally:
        await conn.close()
    return bool(found)


#: The database-level setting of migration 0002, which a dump of one database does not carry.
_JIT_OFF = (
    "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = off', current_database()); "
    "EXCEPTION WHEN insufficient_privilege THEN NULL; END $$"
)


async def _pg_restore(source: Path, url: DatabaseUrl, where: str, replace: bool,
                      pg_bin: Path | None) -> None:
    server = await _server(url, where)
    tool = _tool("pg_restore", server.major, pg_bin)
    await _tool_major(tool, server)
    code, listing, err = await _run([str(tool), "--list", str(source)], os.environ)
    if code != 0:
        raise BackupError(f"{source}: not a readable pg_dump archive ({err.strip()[:300]})")
    if not re.search(r" TABLE trading fills ", listing):
        raise BackupError(f"{source}: holds no trading.fills table: not an AlphaDesk ledger dump")
    if await _pg_has_ledger(url) and not replace:
        raise BackupError(
            f"{where}={url.redacted!r}: already holds a ledger (schema trading); restore into a "
            "new empty database, or pass --replace to drop and replace what the backup holds"
        )
    target, password = _libpq_url(url)
    argv = [str(tool), "--no-owner", "--no-privileges", "--exit-on-error",
            "--single-transaction", f"--dbname={target}"]
    if replace:
        argv += ["--clean", "--if-exists"]
    code, _, err = await _run([*argv, str(source)], _env(password))
    if code != 0:
        raise _failed("pg_restore", code, err, url)
    import asyncpg

    conn = await asyncpg.connect(url.asyncpg_dsn, timeout=CONNECT_TIMEOUT_S,
                                 statement_cache_size=0)
    try:
        await conn.execute(_JIT_OFF)
    finally:
        await conn.close()


# ------------------------------------------------------------------------------------------------
# SQLite


def _sqlite_backup(path: Path, dest: Path) -> None:
    if not path.is_file():
        raise BackupError(f"{path}: no such SQLite ledger")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        out = sqlite3.connect(partial)
        try:
            src.backup(out)
            # A standalone copy: no -wal beside it is needed to read it.
            out.execute("PRAGMA journal_mode=DELETE").fetchall()
            check = out.execute("PRAGMA quick_check").fetchone()
        finally:
            out.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{path}: cannot back up: {exc}") from None
    finally:
        src.close()
    if check is None or check[0] != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"{path}: the copy fails its integrity check: {check}")
    partial.replace(dest)


def _sqlite_tables(path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    return {str(name) for (name,) in rows}


def _sqlite_restore(source: Path, target: Path, replace: bool) -> None:
    try:
        tables = _sqlite_tables(source)
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: not a readable SQLite file: {exc}") from None
    if "fills" not in tables:
        raise BackupError(f"{source}: holds no fills table: not an AlphaDesk ledger backup")
    if not target.parent.is_dir():
        raise BackupError(f"{target}: folder {target.parent} does not exist")
    if target.exists() and _sqlite_tables(target) and not replace:
        raise BackupError(
            f"{target}: already holds a ledger; restore to a new file, or pass --replace "
            "(stop every process writing to it first)"
        )
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(target, timeout=10)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=WAL").fetchall()  # as the ledger runs it
        finally:
            out.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{target}: cannot restore: {exc}") from None
    finally:
        src.close()


# ------------------------------------------------------------------------------------------------
# The two entry points


def _free(dest: Path) -> None:
    if dest.exists():
        raise BackupError(f"{dest}: already exists; a backup never overwrites a file")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest}: folder {dest.parent} does not exist")


async def backup(url: DatabaseUrl, dest: Path, *, source: str = "DATABASE_URL",
                 pg_bin: Path | None = None) -> BackupFile:
    """Write a backup of ``url`` to the file ``dest`` (which must not exist yet); ``source``
    names where the URL came from in errors."""
    await asyncio.to_thread(_free, dest)
    if url.kind == "postgresql":
        await _pg_backup(url, dest, source, pg_bin)
    else:
        assert url.sqlite_path is not None
        await asyncio.to_thread(_sqlite_backup, url.sqlite_path, dest)
    size = (await asyncio.to_thread(dest.stat)).st_size
    return BackupFile(dest, url.kind, size)


async def restore(source: Path, url: DatabaseUrl, *, where: str = "DATABASE_URL",
                  replace: bool = False, pg_bin: Path | None = None) -> Restored:
    """Restore the backup file ``source`` into ``url``; the kind of file must match the kind of
    database. Returns what the restored ledger holds."""
    kind = kind_of(source)
    if kind != url.kind:
        raise BackupError(
            f"{source} is a {kind} backup; it restores only into a {kind} database, and "
            f"{where} names a {url.kind} one"
        )
    if kind == "postgresql":
        await _pg_restore(source, url, where, replace, pg_bin)
    else:
        assert url.sqlite_path is not None
        await asyncio.to_thread(_sqlite_restore, source, url.sqlite_path, replace)
    return await count(url)


async def count(url: DatabaseUrl) -> Restored:
    """Fills, round trips and bots in the ledger at ``url``."""
    sql = (
        "SELECT (SELECT count(*) FROM trading.fills), "
        "(SELECT count(*) FROM trading.completed_trades), (SELECT count(*) FROM trading.bots)"
    )
    if url.kind == "postgresql":
        import asyncpg

        conn = await asyncpg.connect(url.asyncpg_dsn, timeout=CONNECT_TIMEOUT_S,
                                     statement_cache_size=0)
        try:
            row = tuple(await conn.fetchrow(sql) or (0, 0, 0))
        finally:
            await conn.close()
    else:
        assert url.sqlite_path is not None
        path = url.sqlite_path

        def read() -> tuple[int, int, int]:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                got = conn.execute(sql.replace("trading.", "")).fetchone()
            finally:
                conn.close()
            return (int(got[0]), int(got[1]), int(got[2]))

        row = await asyncio.to_thread(read)
    return Restored(url.kind, int(row[0]), int(row[1]), int(row[2]))
