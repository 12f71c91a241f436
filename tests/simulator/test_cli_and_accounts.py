"""The ``alphadesk simulator`` command in a real process, and the accounts file."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from alphadesk.app.commands import simulator as simulator_command
from alphadesk.domain.errors import InvalidField
from alphadesk.simulator import SimAccount, load_accounts, parse_account


async def test_command_serves_until_sigterm(btc_csv: Path, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[[account]]\nkey = "k1"\nsecret = "s1"\nname = "bot1"\n\n'
        '[[account]]\nkey = "k2"\nsecret = "s2"\nwithdraw = true\nbalance = "500"\n'
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphadesk.app.cli", "simulator", "--port", "0",
        "--data", str(btc_csv), "--accounts", str(accounts), "--speed", "3000",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert "BTCUSDT" in line and "bot1" in line, line
        base = line.split()[1]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/sim/state") as resp:
                first = second = (await resp.json())["nowMs"]
            for _ in range(600):  # a wait for the pacer, however busy the machine: not a timing
                await asyncio.sleep(0.05)
                async with session.get(f"{base}/sim/state") as resp:
                    second = (await resp.json())["nowMs"]
                if second != first:
                    break
        assert second > first  # --speed moves the replay clock on its own
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = await asyncio.wait_for(proc.wait(), 30)
    assert rc == 0


async def test_command_without_accounts_serves_market_data_and_prints_its_urls(
    btc_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    simulator_command.register(parser.add_subparsers())  # the real command, no other imports
    args = parser.parse_args(["simulator", "--port", "0", "--data", str(btc_csv)])
    assert args.handler is simulator_command.run
    stop = asyncio.Event()
    task = asyncio.create_task(simulator_command.serve(args, stop))
    try:
        text = ""
        for _ in range(500):  # a wait for start-up, not a timing claim
            text += capsys.readouterr().out
            if "control" in text or task.done():
                break
            await asyncio.sleep(0.02)
        assert "public market data only" in text, text
        base = text.split()[1]
        port = base.rsplit(":", 1)[1]
        assert f"{base}/v5/" in text and f"{base}/sim/state" in text
        assert f"ws://127.0.0.1:{port}/v5/public/linear" in text
        assert f"ws://127.0.0.1:{port}/v5/private" in text
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/v5/market/tickers?category=linear") as resp:
                tickers = await resp.json()
            async with session.get(f"{base}/v5/account/wallet-balance?accountType=UNIFIED",
                                   headers={"X-BAPI-API-KEY": "nobody"}) as resp:
                private = await resp.json()
        assert tickers["retCode"] == 0 and tickers["result"]["list"][0]["symbol"] == "BTCUSDT"
        assert private["retCode"] == 10003
    finally:
        stop.set()
        rc = await asyncio.wait_for(task, 30)
    assert rc == 0


def test_accounts_file_and_key_secret_specs(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('[[account]]\nkey = "k"\nsecret = "s:x"\nwithdraw = true\n')
    (account,) = load_accounts(path)
    assert account.withdraw and account.secret == "s:x"
    assert "s:x" not in repr(account)
    assert parse_account("key:sec:ret") == SimAccount("key", "sec:ret")
    with pytest.raises(InvalidField, match="KEY:SECRET"):
        parse_account("no-secret")
    path.write_text("title = 'none'\n")
    with pytest.raises(InvalidField, match="account"):
        load_accounts(path)
