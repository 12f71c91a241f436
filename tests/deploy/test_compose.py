"""deploy/compose.yaml, proved without a Docker daemon, two ways.

1. The file validates: Debian's ``docker-compose config`` (installed by scripts/test) reads it,
   merges its anchors and interpolates it; a missing ``POSTGRES_PASSWORD`` is refused by name.
2. Every desk service runs from its own definition: the test reads the file and starts each
   service's own command with its own environment as a local process, translated only where a
   container differs from this machine (host names ``pgbouncer``/``postgres``/``redis`` -> the
   test's PgBouncer, PostgreSQL and Redis; volumes -> folders of the test; one free metrics port
   each; this test's Redis key namespace), with ``BYBIT_BASE_URL`` set, as a trader would in
   ``.env``, to the local Bybit simulator. Each service's own health check must pass, a fill must
   flow from the simulator through the listener into the ledger and onto ``events:fills``, and
   SIGTERM must stop every service with exit 0, leaving the position open.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import trustme
from compose_support import (
    COMPOSE,
    Local,
    command,
    environment,
    health_command,
    is_desk,
    load,
    venv_bin,
)
from deploy_support import account, eventually, market_order, trader
from redis.asyncio import Redis

from alphadesk.app.demo.market import MARKETS, load_market
from alphadesk.domain.enums import Side
from alphadesk.simulator import run_simulator
from c2.fake_bot_api import FakeBotApi
from harness.postgres import PgDatabase

#: The seed's resource allocation (PLATFORM_README "Resource Allocation"); None = no limit.
SEED_MEMORY = {"shortseller": None, "lxalgo": "900m", "momentum": "900m", "telegram": "256m",
               "sync": "512m"}
BOTS = ("shortseller", "lxalgo", "momentum")
DESK_TOML = """
[bots.shortseller]
mode = "demo"

[bots.lxalgo]
mode = "demo"
symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]

[bots.momentum]
mode = "demo"
symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
"""
#: Momentum decides on 4-hour bars (140 to warm up) made by the simulator from its 5-minute files.
HISTORY_BARS = 141 * 48


#: A token in BotFather's shape (the Telegram service refuses any other); only the fake API sees it.
TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def _stream_id(raw: bytes | str) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, seq = text.split("-")
    return int(ms), int(seq)


def dot_env(**extra: str) -> dict[str, str]:
    """What a trader's .env holds (see .env.example)."""
    return {"POSTGRES_PASSWORD": "test-password", "BYBIT_DEMO": "true",
            "C2_TELEGRAM_BOT_TOKEN": TOKEN, "C2_TELEGRAM_ADMIN_IDS": "42",
            "ALPHADESK_WEB_ADMIN_PASSWORD": "test-web-password", **extra}


def compose_exe() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    assert probe.returncode == 0, "neither docker-compose nor the compose plugin is installed " \
                                  "(scripts/test installs Debian's docker-compose)"
    return ["docker", "compose"]


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in dot_env().items()))
    done = subprocess.run([*compose_exe(), "--env-file", str(env_file), "-f", str(COMPOSE),
                           "config"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "pool_mode" not in done.stdout  # (PgBouncer is configured by its variables)
    assert "POOL_MODE: transaction" in done.stdout
    assert "test-password@pgbouncer:6432/trading_db" in done.stdout
    env_file.write_text("BYBIT_DEMO=true\n")
    missing = subprocess.run([*compose_exe(), "--env-file", str(env_file), "-f", str(COMPOSE),
                              "config"], capture_output=True, text=True, check=False)
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr


def test_the_file_has_the_seeds_shape() -> None:
    services = load(dot_env())["services"]
    desk = {name: s for name, s in services.items() if is_desk(s)}
    assert set(desk) == {"migrate", "listener", "sync", "telegram", "web", "backup", *BOTS}
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    redis_cmd = services["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"
    assert redis_cmd[redis_cmd.index("--appendfsync") + 1] == "everysec"
    for name, service in {**desk, "postgres": services["postgres"],
                          "pgbouncer": services["pgbouncer"],
                          "redis": services["redis"]}.items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
        assert name == "pgbouncer" or service.get("volumes"), name  # it alone keeps no state
    for name, limit in SEED_MEMORY.items():
        assert desk[name].get("mem_limit") == limit, name
    for name in BOTS:
        env = desk[name]["environment"]
        keys = {k for k in env if k.endswith(("_API_KEY", "_API_SECRET"))}
        assert keys == {f"{name.upper()}_BYBIT_API_KEY", f"{name.upper()}_BYBIT_API_SECRET"}
    backup = desk["backup"]["command"]
    assert backup[1:7] == ["db", "backup", "--every", "24h", "--keep", "14"]


def _installed(command_name: str) -> bool:
    return importlib.util.find_spec(f"alphadesk.app.commands.{command_name}") is not None


async def _run_once(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*argv, env=env, cwd=cwd,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def _healthy(name: str, argv: list[str], env: dict[str, str], cwd: Path,
                   proc: asyncio.subprocess.Process, within_s: float = 60.0) -> None:
    """The service's own health check passes (retried, as Compose retries it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        assert proc.returncode is None, f"{name} exited with {proc.returncode}"
        code, out = await _run_once(argv, env, cwd)
        if code == 0:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{name}: health check still failing: {out[-1500:]}")
        await asyncio.sleep(1.0)  # Compose's interval, shortened


@pytest.mark.timeout(300)  # ten processes start here; the health checks above are the bounds
async def test_each_desk_service_runs_from_its_compose_definition(
    tmp_path: Path, fresh_pg_database: PgDatabase, redis_url: str, redis_prefix: str,
) -> None:
    (tmp_path / "alphadesk.toml").write_text(DESK_TOML)
    accounts = {bot: account(bot, i) for i, bot in enumerate(BOTS)}
    series = load_market(MARKETS[0])  # the bundled BTC/ETH/SOL 5-minute candles
    api = FakeBotApi(TOKEN)  # Telegram: a local Bot API on loopback, never the internet
    await api.start()
    async with run_simulator(series, list(accounts.values()), history_bars=HISTORY_BARS) as sim:
        keys = {f"{bot.upper()}_BYBIT_API_{part}": getattr(acct, attr)
                for bot, acct in accounts.items()
                for part, attr in (("KEY", "key"), ("SECRET", "secret"))}
        services = load(dot_env(BYBIT_BASE_URL=sim.base_url, C2_TELEGRAM_API_URL=api.url,
                                **keys))["services"]
        volumes: dict[str, Path] = {}
        for service in services.values():
            for entry in service.get("volumes") or []:
                source, inside = entry.split(":")[:2]
                local = (tmp_path / Path(source).name if source.startswith(".")
                         else tmp_path / source)
                volumes[inside] = local
                if not source.startswith("."):
                    local.mkdir(exist_ok=True)
        tls = volumes["/etc/alphadesk/tls"]  # the web listens on 0.0.0.0 in its container: TLS
        tls.mkdir(exist_ok=True)
        issued = trustme.CA().issue_cert("localhost", "127.0.0.1")
        issued.cert_chain_pems[0].write_to_path(str(tls / "cert.pem"))
        issued.private_key_pem.write_to_path(str(tls / "key.pem"))
        local = Local(fresh_pg_database.bouncer_dsn, fresh_pg_database.direct_dsn, redis_url,
                      redis_prefix, volumes, venv_bin())
        workdir = volumes["/var/lib/alphadesk"]

        def env_of(name: str) -> dict[str, str]:
            return environment(services[name], local)

        code, out = await _run_once(command(services["migrate"]["command"], local),
                                    env_of("migrate"), workdir)
        assert code == 0, out
        wanted = ["listener", "sync", "backup", *BOTS]
        wanted += ["telegram", "web"]
        procs: dict[str, asyncio.subprocess.Process] = {}
        logs = tmp_path / "logs"
        logs.mkdir()
        trader_client = await trader(sim.base_url, accounts["lxalgo"])
        redis = Redis.from_url(redis_url)
        try:
            for name in wanted:  # listener first: the bots' services depend on it
                log = (logs / f"{name}.log").open("wb")
                procs[name] = await asyncio.create_subprocess_exec(
                    *command(services[name]["command"], local), env=env_of(name), cwd=workdir,
                    stdout=log, stderr=subprocess.STDOUT)
                log.close()
            for name in wanted:
                await _healthy(name, health_command(services[name], local), env_of(name),
                               workdir, procs[name])
            await market_order(trader_client, "lxalgo_001", "BTCUSDT", Side.BUY, "0.01")
            conn = await asyncpg.connect(fresh_pg_database.direct_dsn)
            try:
                async def recorded() -> Any:
                    return await conn.fetchval(
                        "SELECT count(*) FROM trading.fills WHERE bot_id = 'lxalgo_001'")

                await eventually(recorded, within_s=30)
                registered = await conn.fetch("SELECT bot_id, deployment_mode FROM trading.bots "
                                              "ORDER BY bot_id")
            finally:
                await conn.close()
            await eventually(lambda: redis.xlen(f"{redis_prefix}events:fills"), within_s=15)
            if "telegram" in wanted:  # the Telegram service reads the fill off the alert stream
                stream = f"{redis_prefix}events:fills"
                newest = _stream_id((await redis.xinfo_stream(stream))["last-generated-id"])

                async def telegram_read_it() -> bool:
                    groups = {(g["name"].decode() if isinstance(g["name"], bytes) else g["name"]):
                              g for g in await redis.xinfo_groups(stream)}  # fmt: skip
                    group = groups.get("telegram")
                    return group is not None and _stream_id(
                        group["last-delivered-id"]) >= newest

                await eventually(telegram_read_it, within_s=15)
                await api.command(42, "/status")  # and it answers its admin from the ledger
                await api.wait_for(lambda calls: any(
                    c.method == "sendMessage" and c.chat_id == 42 and "lxalgo" in c.text
                    for c in calls), 30)
            assert {(r["bot_id"], r["deployment_mode"]) for r in registered} >= {
                (f"{b}_001", "demo") for b in BOTS}
            assert any((volumes["/var/lib/alphadesk-backups"]).glob("alphadesk-*"))
        finally:
            for proc in procs.values():
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
            codes = {}
            for name, proc in procs.items():
                try:
                    codes[name] = await asyncio.wait_for(proc.wait(), 60)
                except TimeoutError:
                    proc.kill()
                    codes[name] = await proc.wait()
            await redis.aclose()
            await api.close()
        try:
            positions = {p.symbol: p for p in await trader_client.trading.positions()}
        finally:
            await trader_client.close()
    failed = {n: c for n, c in codes.items() if c != 0}
    assert not failed, {n: (logs / f"{n}.log").read_text()[-1500:] for n in failed}
    held = positions["BTCUSDT"]
    assert held.side is Side.BUY and held.size > 0  # no service flattened on its way out
    for name in wanted:
        text = (logs / f"{name}.log").read_text()
        assert all(acct.secret not in text for acct in accounts.values()), name
        assert TOKEN.split(":")[1] not in text and "test-web-password" not in text, name


@pytest.mark.parametrize("name", ["telegram", "web"])
def test_telegram_and_web_services_run_their_commands(name: str) -> None:
    """The services name the commands this build has (the process test above runs them)."""
    assert _installed(name)
    services = load(dot_env())["services"]
    assert services[name]["command"][:2] == ["alphadesk", name]
