"""``alphadesk run``: the whole desk in one process against the real venues.

Reads ``alphadesk.toml`` (``--config``, else ``$ALPHADESK_CONFIG``, else ``./alphadesk.toml``):
one ``[bots.<name>]`` table per bot to run, with its ``mode`` (paper, demo, testnet or live), its
strategy parameters (``symbols`` …) and its ``[bots.<name>.risk]`` limits; ``[run]`` says how
often to sync and which symbols the listener follows. Secrets come from the environment under the
seed's names (``.env.example``). Everything is checked before anything starts: a bad key stops
the command with exit 2 and one line naming the key and the problem.

Then, in one process: the ledger migrations, the listener for every account with keys (the one
writer of their fills), each configured bot, the scheduled sync, and the Telegram command bot and
web dashboard when configured (each as its own ``alphadesk`` child process, when this build has
the command). Ctrl-C or SIGTERM stops the bots first (positions and their venue-side stops stay
as they are: nothing is ever flattened), then the sync and the listener, which records the last
fills before it closes. A part that fails stops the desk (exit 1) so a supervisor restarts it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from alphadesk.app import observability
from alphadesk.app import settings as desk_settings
from alphadesk.app.desk_config import MODES
from alphadesk.app.settings import BotSettings, Settings, SettingsError

log = logging.getLogger("alphadesk.run")
DEFAULT_CONFIG = Path("alphadesk.toml")
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
_ENV_FLAGS = {"demo": "BYBIT_DEMO", "testnet": "BYBIT_TESTNET"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run", help="the whole desk in one process: listener, bots, sync (from alphadesk.toml)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--config", type=Path, default=None,
                        help="the desk's TOML file (default: $ALPHADESK_CONFIG or "
                             "./alphadesk.toml)")
    parser.add_argument("--check", action="store_true",
                        help="check the configuration (and reach the servers) and exit")
    parser.add_argument("--namespace", default="",
                        help="Redis key namespace (default: none, the seed's key names)")
    parser.add_argument("--no-upgrade", action="store_true",
                        help="do not apply the ledger migrations at start")
    observability.add_flag(parser)
    parser.set_defaults(handler=handle)


@dataclass(frozen=True, slots=True)
class Plan:
    """What the checked configuration starts."""

    settings: Settings
    bots: tuple[BotSettings, ...]
    listener: bool
    sync_every_s: float | None
    children: tuple[tuple[str, ...], ...]
    """Other ``alphadesk`` commands started beside the desk (telegram, web)."""


def config_path(flag: Path | None, env: dict[str, str]) -> Path:
    if flag is not None:
        return flag
    return Path(env["ALPHADESK_CONFIG"]) if env.get("ALPHADESK_CONFIG") else DEFAULT_CONFIG


def plan(env: dict[str, str], path: Path) -> Plan:
    """The whole configuration checked, nothing started; SettingsError names the first bad key."""
    from alphadesk.app.listener import accounts_from_settings
    from alphadesk.strategies import build

    if not path.is_file():
        raise SettingsError(f"--config={str(path)!r}: file not found (see alphadesk.toml.example)")
    settings = desk_settings.load({**env, "ALPHADESK_CONFIG": str(path)})
    where = f"ALPHADESK_CONFIG={str(path)!r}"  # the same prefix as the settings' own errors
    chosen = tuple(b for b in settings.bots if b.configured and b.extras.enabled)
    if not chosen:
        raise SettingsError(f"{where}: bots: no enabled [bots.<name>] table, nothing to run")
    for bot in chosen:
        key = f"bots.{bot.strategy}"
        mode = bot.extras.mode
        if mode is None:
            raise SettingsError(f"{where}: {key}.mode: missing (one of {', '.join(MODES)})")
        if mode != "paper" and not bot.has_credentials:
            prefix = bot.strategy.upper()
            raise SettingsError(f"{where}: {key}.mode: {mode!r} needs {prefix}_BYBIT_API_KEY "
                                f"and {prefix}_BYBIT_API_SECRET in the environment")
        for other, flag in _ENV_FLAGS.items():
            raw = env.get(flag, "")
            if raw and desk_settings.parse_bool(flag, raw) and mode not in ("paper", other):
                raise SettingsError(f"{where}: {key}.mode: {mode!r} contradicts {flag}={raw}")
        strategy = build(bot.strategy, **dict(bot.params))
        if not strategy.symbols:
            raise SettingsError(f"{where}: {key}.symbols: missing; the bot needs the symbols it "
                                "trades, e.g. symbols = [\"BTCUSDT\"]")
    trading = tuple(b for b in chosen if b.extras.mode != "paper")
    accounts = accounts_from_settings(settings)  # refuses a key shared with two secrets
    children: list[tuple[str, ...]] = []
    if settings.run.telegram and settings.telegram_token:
        if not settings.telegram_admin_ids:
            raise SettingsError("C2_TELEGRAM_ADMIN_IDS: missing; C2_TELEGRAM_BOT_TOKEN is set and "
                                "the command bot answers only its admins")
        health = settings.run.state_dir / "listener-health.json"  # the listener's, below
        children.append(("telegram", "--health-file", str(health)))
    if settings.run.web:
        children.append(("web", "--port", str(settings.run.web_port)))
    return Plan(settings, chosen, bool(accounts) and bool(trading),
                settings.run.sync_every_s if accounts else None, tuple(children))


def _installed(command: str) -> bool:
    return importlib.util.find_spec(f"alphadesk.app.commands.{command}") is not None


def handle(args: argparse.Namespace) -> int:
    from alphadesk.app.commands import checks

    env = dict(os.environ)
    path = config_path(args.config, env)
    desk = plan(env, path)
    metrics_port = observability.port(args, desk.settings)
    checks.redis(desk.settings)
    checks.database(None, "DATABASE_URL", desk.settings)
    for child in desk.children:
        if not _installed(child[0]):
            print(f"run: alphadesk {child[0]} is not in this build; it is not started",
                  file=sys.stderr)
    if args.check:
        names = ", ".join(f"{b.bot_id} ({b.extras.mode})" for b in desk.bots)
        print(f"run: {path}: ok; would start {names}"
              + ("; the listener" if desk.listener else "")
              + ("; sync" if desk.sync_every_s else ""))
        return 0
    # Every part reads the one checked file; the metrics page is the listener's alone.
    os.environ["ALPHADESK_CONFIG"] = str(path)
    os.environ.pop("ALPHADESK_METRICS_PORT", None)
    if not args.no_upgrade:
        from alphadesk.adapters.storage import migrate

        for line in migrate.upgrade(desk.settings.database_url):
            print(f"run: db upgrade: {line}", flush=True)
    return asyncio.run(Desk(desk, args.namespace, metrics_port).run())


class Desk:
    def __init__(self, plan: Plan, namespace: str, metrics_port: int | None) -> None:
        self.plan = plan
        self.namespace = namespace
        self.metrics_port = metrics_port
        self.stop = asyncio.Event()
        self.failed: list[str] = []

    def _signal(self) -> None:
        if not self.stop.is_set():
            print("run: stopping (positions stay open)", flush=True)
        self.stop.set()

    async def run(self) -> int:
        from alphadesk.app.bot import Bot, BotOptions

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._signal)
        state_dir = self.plan.settings.run.state_dir
        listener_stop, sync_stop = asyncio.Event(), asyncio.Event()
        parts: dict[str, asyncio.Task[Any]] = {}
        bots: list[Bot] = []
        children: list[asyncio.subprocess.Process] = []
        try:
            if self.plan.listener:
                await self._start_listener(parts, listener_stop, state_dir)
            for config in self.plan.bots:
                if self.stop.is_set():
                    break
                mode = config.extras.mode or "paper"
                options = BotOptions(
                    name=config.bot_id, mode=mode,  # type: ignore[arg-type]  # checked in plan
                    prices="live" if mode == "paper" else "replay", state_dir=state_dir,
                    heartbeat_s=self.plan.settings.run.heartbeat_s,
                    redis_namespace=self.namespace,
                )  # fmt: skip
                bot = Bot(self.plan.settings, options)
                bots.append(bot)
                await self._start_bot(bot, parts)
            if self.plan.sync_every_s is not None and not self.stop.is_set():
                from alphadesk.app.commands.sync import scheduled

                sync_args = SimpleNamespace(bot=None, spool_dir=state_dir / "sync-spool",
                                            namespace=self.namespace, metrics_port=None)
                parts["sync"] = asyncio.create_task(
                    scheduled(sync_args, self.plan.sync_every_s, sync_stop),  # type: ignore[arg-type]
                    name="sync")
            for child in self.plan.children:
                if _installed(child[0]):
                    namespace = ("--namespace", self.namespace) if child[0] == "telegram" else ()
                    children.append(await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "alphadesk.app.cli", *child, *namespace))
            if not self.stop.is_set():
                print(f"run: desk running: {', '.join(parts)}"
                      + (f"; {', '.join(c[0] for c in self.plan.children)}" if children else ""),
                      flush=True)
            await self._watch(parts)
        finally:
            await self._shutdown(parts, bots, children, listener_stop, sync_stop)
        for bot in bots:
            run = bot.run_info
            if run is not None:
                book = run.engine.portfolio
                shown = ", ".join(f"{s} {p.qty:+}" for s, p in sorted(book.positions.items()))
                print(f"run: {run.bot_id}: {len(run.engine.fills)} fills; open: "
                      f"{shown or 'flat'} (left open)", flush=True)
        if self.failed:
            print(f"run: stopped because {'; '.join(self.failed)}", file=sys.stderr)
            return 1
        return 0

    async def _start_listener(self, parts: dict[str, asyncio.Task[Any]],
                              stop: asyncio.Event, state_dir: Path) -> None:
        from alphadesk.app.commands import listener

        args = SimpleNamespace(
            health_file=state_dir / "listener-health.json", spool_dir=state_dir / "fill-spool",
            symbols=list(self.plan.settings.run.listener_symbols), gapfill_every=300.0,
            namespace=self.namespace, metrics_port=self.metrics_port,
        )  # fmt: skip
        started = asyncio.Event()
        task = asyncio.create_task(listener.serve(args, stop, started),  # type: ignore[arg-type]
                                   name="listener")
        parts["listener"] = task
        await self._started("listener", task, started)

    async def _start_bot(self, bot: Any, parts: dict[str, asyncio.Task[Any]]) -> None:
        started = asyncio.Event()
        bot.on_started = lambda _run: started.set()
        task = asyncio.create_task(bot.run(), name=bot.bot_id)
        parts[bot.bot_id] = task
        await self._started(bot.bot_id, task, started)

    async def _started(self, name: str, task: asyncio.Task[Any], started: asyncio.Event) -> None:
        """Wait until the part is up, it fails, or a stop is asked for."""
        waiters = {asyncio.create_task(started.wait()), asyncio.create_task(self.stop.wait())}
        done, _ = await asyncio.wait({task, *waiters}, timeout=START_TIMEOUT_S,
                                     return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        if task in done:
            self._failed(name, task)
        elif not done:
            self.failed.append(f"{name} did not start within {START_TIMEOUT_S:.0f} s")
            self.stop.set()

    def _failed(self, name: str, task: asyncio.Task[Any]) -> None:
        exc = None if task.cancelled() else task.exception()
        if task.cancelled():
            error = "was cancelled"
        elif exc is not None:
            error = f"failed: {type(exc).__name__}: {exc}"
        else:
            result = task.result()
            error = f"ended (exit {result})" if isinstance(result, int) else "ended"
        self.failed.append(f"{name} {error}")
        log.error("run: %s %s; stopping the desk", name, error)
        self.stop.set()

    async def _watch(self, parts: dict[str, asyncio.Task[Any]]) -> None:
        """Until a stop is asked for or any part ends on its own (a failure)."""
        stopping = asyncio.create_task(self.stop.wait())
        try:
            while not self.stop.is_set():
                live = {t for t in parts.values() if not t.done()}
                done, _ = await asyncio.wait({stopping, *live},
                                             return_when=asyncio.FIRST_COMPLETED)
                for name, task in parts.items():
                    if task in done:
                        self._failed(name, task)
        finally:
            stopping.cancel()

    async def _shutdown(self, parts: dict[str, asyncio.Task[Any]], bots: list[Any],
                        children: list[asyncio.subprocess.Process],
                        listener_stop: asyncio.Event, sync_stop: asyncio.Event) -> None:
        """Bots first (never flattening), then the children and the sync, the listener last so
        it records what the bots' last orders filled."""
        for bot in bots:
            bot.stop()
        await _finish([parts[b.bot_id] for b in bots if b.bot_id in parts])
        for child in children:
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(child.wait(), STOP_TIMEOUT_S)
            if child.returncode is None:
                child.kill()
                await child.wait()
        sync_stop.set()
        await _finish([parts[n] for n in ("sync",) if n in parts])
        listener_stop.set()
        await _finish([parts[n] for n in ("listener",) if n in parts])


async def _finish(tasks: list[asyncio.Task[Any]]) -> None:
    """Let each task end by itself within the stop timeout, else cancel it."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
    for task in pending:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(BaseException):
            await task
