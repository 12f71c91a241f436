"""``alphadesk web`` as a process: built from the settings by ``open_control`` over a seeded
ledger, it prints its URL, answers the API with the ledger's figures, and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from alphadesk.adapters.storage import migrate
from control.control_support import seed

from .web_support import ADMIN_TOKEN, bearer, web_env


async def test_the_command_serves_the_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    await seed(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALPHADESK_WEB_", "REDIS"))}
    env.update(web_env(tmp_path), DATABASE_URL=url, PYTHONUNBUFFERED="1")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphadesk.app.cli", "web", "--port", "0", env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("web: dashboard at http://127.0.0.1:"), line
        base = line.split(" at ")[1].split("/ ")[0]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/api/v1/status") as res:
                assert res.status == 401
            async with http.get(f"{base}/api/v1/status", headers=bearer(ADMIN_TOKEN)) as res:
                assert res.status == 200
                status = await res.json()
            assert status["total_equity"] == "15024.5"
            assert [b["bot_id"] for b in status["bots"]] == ["lxalgo_001", "shortseller_001"]
            async with http.get(f"{base}/login") as res:
                assert res.status == 200 and "<form" in await res.text()
            # without REDIS_URL no bot in another process could read a command: refused, named
            halt = f"{base}/api/v1/bots/shortseller/halt"
            async with http.post(halt, headers=bearer(ADMIN_TOKEN)) as res:
                assert res.status == 503
                assert "REDIS_URL is not set" in (await res.json())["detail"]
            async with http.get(f"{base}/api/v1/audit", headers=bearer(ADMIN_TOKEN)) as res:
                (audited,) = await res.json()
            assert (audited["actor"], audited["outcome"][:8]) == ("web:admin", "refused:")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
        assert process.stderr is not None
        err = (await process.stderr.read()).decode()
    assert code == 0, err
    assert "Traceback" not in err
