"""The ``alphadesk simulator`` command in a real process, and the accounts file."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

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
                first = (await resp.json())["nowMs"]
            await asyncio.sleep(0.5)
            async with session.get(f"{base}/sim/state") as resp:
                second = (await resp.json())["nowMs"]
        assert second > first  # --speed moves the replay clock on its own
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = await asyncio.wait_for(proc.wait(), 30)
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
