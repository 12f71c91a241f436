"""Servers of one test's own, so the test may restart them: PostgreSQL (+ a PgBouncer in front of
it, transaction pooling as in production) and Redis.

The shared servers at 5432/6432/6379 serve every test and every engineer's run; a test that must
stop a server for real (the listener soak: "PostgreSQL is restarted once and Redis once") starts
its own from the same local binaries ``scripts/services.sh`` uses, on free ports, under its
temporary folder, and stops them afterwards. PostgreSQL and PgBouncer refuse to run as root, so as
root they run as the ``postgres`` user. What is missing is named in the error.

The folder should be the test's own (:func:`private_root`), not under pytest's shared basetemp:
another pytest run on the machine resets ``/tmp/pytest-of-<user>`` to 0700 (the ``postgres`` user
then cannot reach its data folder, and ``pg_ctl stop`` fails) and prunes old run folders. Every
server leaves a pid file in the folder, and :func:`stop_leftovers` kills whatever still runs from
it: the last word of a test's teardown, whatever happened before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


class MissingServer(RuntimeError):
    """A server binary this test needs is not installed."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _owned(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
        for parent in path.parents:  # runuser must reach it: pytest's tmp folders are 0700
            if parent == Path("/tmp") or parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o011)
    return path


def _pid_in(pidfile: Path) -> int | None:
    """The pid on the first line of a pid file (PostgreSQL's, PgBouncer's, ours for Redis)."""
    try:
        first = pidfile.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill(pid: int, *, within_s: float = 30.0) -> None:
    """SIGQUIT (PostgreSQL's immediate shutdown; Redis and PgBouncer just die), then SIGKILL if
    it is still there after ``within_s``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + within_s
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child (Redis): reap it
                return
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop_leftovers(root: Path) -> list[str]:
    """Kill every server still running from ``root`` (by the pid files it holds); the pid files
    found alive, for the teardown to mention. Synchronous: safe in any finalizer."""
    stopped = []
    for name in ("pgbouncer.pid", "postmaster.pid", "redis.pid"):
        for pidfile in sorted(root.rglob(name)):
            pid = _pid_in(pidfile)
            if pid is not None and _alive(pid):
                _kill(pid)
                stopped.append(str(pidfile))
    return stopped


@contextmanager
def private_root(prefix: str) -> Iterator[Path]:
    """A temporary folder of the test's own under the system's temp directory (``mkdtemp``:
    a fresh name, created 0700, then opened to traversal so the ``postgres`` user reaches its
    data folder). On the way out, whatever still runs from it is killed and it is removed."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o711)
    try:
        yield root
    finally:
        try:
            stop_leftovers(root)
        finally:
            if os.environ.get("ALPHADESK_KEEP_PRIVATE_SERVERS"):  # to read their logs after
                print(f"private servers' folder kept: {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)


def _pg_bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise MissingServer(
            "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/pg_ctl): "
            "apt-get install postgresql"
        )
    return found[-1].parent


async def _run(argv: list[str], what: str, log: Path) -> None:
    def call() -> None:
        with log.open("ab") as out:
            code = subprocess.call(argv, stdout=out, stderr=subprocess.STDOUT)
        if code != 0:
            raise RuntimeError(f"{what} failed (exit {code}); {log}:\n{log.read_text()[-2000:]}")

    await asyncio.to_thread(call)


async def _answers(port: int, within_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        try:
            _reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            if loop.time() > deadline:
                raise TimeoutError(f"nothing answers on {HOST}:{port} after {within_s} s") from None
            await asyncio.sleep(0.1)
        else:
            writer.close()
            return


async def _pid_from(pidfile: Path, *, within_s: float) -> int | None:
    def read() -> str:
        return pidfile.read_text().strip() if pidfile.exists() else ""

    for _ in range(int(within_s * 10)):
        text = await asyncio.to_thread(read)
        if text.isdigit():
            return int(text)
        await asyncio.sleep(0.1)
    return None


@dataclass
class PrivatePostgres:
    bindir: Path
    data: Path
    port: int
    bouncer_port: int
    bouncer_config: Path
    log: Path

    @property
    def direct_dsn(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    @property
    def bouncer_dsn(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.bouncer_port}/postgres"

    async def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses={HOST} -k {self.data} -c fsync=off"
        await _run(
            _as_postgres(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.data / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ]
            ),
            "pg_ctl start",
            self.log,
        )

    async def stop(self) -> None:
        """A fast shutdown: sessions are cut as a restart cuts them."""
        await _run(
            _as_postgres(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop"]
            ),
            "pg_ctl stop",
            self.log,
        )


@asynccontextmanager
async def private_postgres(folder: Path) -> AsyncIterator[PrivatePostgres]:
    """A fresh cluster (trust auth, fsync off: a test's data) and a PgBouncer in front of it."""
    bindir = _pg_bindir()
    if shutil.which("pgbouncer") is None:
        raise MissingServer("pgbouncer: apt-get install pgbouncer")
    root = _owned(folder)
    data = _owned(root / "data")
    data.chmod(0o700)
    log = root / "harness.log"
    await _run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"]
        ),
        "initdb",
        log,
    )
    server = PrivatePostgres(bindir, data, _free_port(), _free_port(), root / "pgbouncer.ini", log)
    server.bouncer_config.write_text(
        "[databases]\n"
        f"* = host={HOST} port={server.port}\n"
        "[pgbouncer]\n"
        f"listen_addr = {HOST}\nlisten_port = {server.bouncer_port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {root / 'userlist.txt'}\npool_mode = transaction\n"
        "ignore_startup_parameters = extra_float_digits,search_path,options\n"
        # An outage must surface as an error, not as a query parked for PgBouncer's default two
        # minutes, and PostgreSQL back must be used at once, not after 15 s of refused logins:
        # the listener spools on the error and replays when it is back.
        "query_wait_timeout = 10\nserver_login_retry = 1\n"
        f"logfile = {root / 'pgbouncer.log'}\npidfile = {root / 'pgbouncer.pid'}\n"
    )
    (root / "userlist.txt").write_text('"postgres" ""\n')
    await server.start()
    pidfile = root / "pgbouncer.pid"
    try:
        await _run(_as_postgres(["pgbouncer", "-d", str(server.bouncer_config)]), "pgbouncer", log)
        await _answers(server.bouncer_port, 15)
        yield server
    finally:
        # -d returns before the daemon has written its pid file: wait for it, so it is stopped
        bouncer = await _pid_from(pidfile, within_s=10)
        if bouncer is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(bouncer, signal.SIGTERM)
        postmaster = _pid_in(data / "postmaster.pid")
        if postmaster is not None and _alive(postmaster):  # not already down (an outage's)
            try:
                await server.stop()
            except RuntimeError:  # pg_ctl could not do it: the pid file can
                await asyncio.to_thread(_kill, postmaster)


@dataclass
class PrivateRedis:
    port: int
    folder: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise MissingServer("redis-server: apt-get install redis-server")
        self.process = await asyncio.create_subprocess_exec(
            binary,
            "--port",
            str(self.port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.folder),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        (self.folder / "redis.pid").write_text(f"{self.process.pid}\n")  # see stop_leftovers
        await _answers(self.port, 15)

    async def stop(self) -> None:
        """SIGKILL: a crash, and nothing kept (it saves nothing to disk)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None
        (self.folder / "redis.pid").unlink(missing_ok=True)


@asynccontextmanager
async def private_redis(folder: Path) -> AsyncIterator[PrivateRedis]:
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    server = PrivateRedis(_free_port(), folder)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
