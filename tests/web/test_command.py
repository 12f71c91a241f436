"""``alphadesk web`` as a process: built from the settings by ``open_control`` over a seeded
ledger, it prints its URL, answers the API with the ledger's figures, and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
import trustme

from alphadesk.adapters.storage import migrate
from control.control_support import seed

from .web_support import ADMIN_PW, ADMIN_TOKEN, bearer, web_env


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


@asynccontextmanager
async def web_process(env: dict[str, str], cwd: Path) -> AsyncIterator[str]:
    """``alphadesk web --port 0`` running; yields the URL it printed; stops it with SIGTERM."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphadesk.app.cli", "web", "--port", "0", env=env, cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stderr is not None
        async with asyncio.timeout(60):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("web: dashboard at "), (line, await process.stderr.read())
        yield line.split(" at ")[1].split("/ ")[0]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            assert await process.wait() == 0


async def test_with_tls_it_serves_https_only_with_secure_cookies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert))
    server_cert.private_key_pem.write_to_path(str(key))
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALPHADESK_WEB_", "REDIS"))}
    env.update(web_env(tmp_path), DATABASE_URL=url, ALPHADESK_WEB_TLS_CERT=str(cert),
               ALPHADESK_WEB_TLS_KEY=str(key))  # fmt: skip
    async with web_process(env, tmp_path) as base, aiohttp.ClientSession() as http:
        assert base.startswith("https://127.0.0.1:")
        async with http.post(f"{base}/login", ssl=client_tls, allow_redirects=False,
                             data={"username": "admin", "password": ADMIN_PW}) as res:  # fmt: skip
            assert res.status == 303
            assert "; secure" in res.headers["Set-Cookie"].lower()
            assert res.headers["Strict-Transport-Security"].startswith("max-age=")
        plain = base.replace("https://", "http://")
        with pytest.raises(aiohttp.ClientError):
            async with http.get(f"{plain}/login") as res:
                await res.read()
