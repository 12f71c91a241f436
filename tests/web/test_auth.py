"""Authentication, roles, CSRF and the login rate limit, against the real app over a socket;
and the refusals to start exposed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.storage import migrate
from alphadesk.web import config as web_config
from alphadesk.web.passwords import hash_password, verify_password
from control.control_support import SS, control_over, seed

from .conftest import Desk
from .web_support import (
    ADMIN_PW,
    ADMIN_TOKEN,
    VIEWER_PW,
    VIEWER_TOKEN,
    bearer,
    login,
    serve,
    web_env,
)

READS = ["/api/v1/session", "/api/v1/bots", "/api/v1/overview", "/api/v1/status",
         "/api/v1/positions", "/api/v1/balances", "/api/v1/analytics", "/api/v1/performance",
         "/api/v1/pnl/daily", "/api/v1/health", "/api/v1/trades", "/api/v1/trades.csv",
         "/api/v1/audit", "/api/v1/backtests", "/api/v1/events", "/api/v1/openapi.json",
         "/api/v1/reconcile"]  # fmt: skip
PAGES = ["/", f"/bots/{SS}", "/backtests", "/backtests/compare?a=x.json&b=y.json",
         "/backtests/files/x.html"]  # fmt: skip
SECRETS = [ADMIN_PW, VIEWER_PW, ADMIN_TOKEN, VIEWER_TOKEN]


async def test_nothing_without_a_login_and_no_secret_in_any_answer(
    desk: Desk, tmp_path: Path
) -> None:
    await seed(desk.url)
    async with (
        control_over(desk.url, desk.state) as control,
        serve(control, desk.state.bus, web_env(tmp_path)) as base,
        aiohttp.ClientSession() as http,
    ):
        for path in READS:
            async with http.get(base + path) as res:
                assert res.status == 401, path
                assert "total_equity" not in await res.text()
            async with http.get(base + path, headers=bearer("wrong-token-0123456789")) as res:
                assert res.status == 401, path
        for path in PAGES:
            async with http.get(base + path, allow_redirects=False) as res:
                assert res.status == 303, path
                assert res.headers["Location"].startswith("/login?next=")
        for kind in ("halt", "resume", "flatten"):
            async with http.post(f"{base}/api/v1/bots/{SS}/{kind}") as res:
                assert res.status == 401
        assert await control.audit_log() == []  # nothing reached the facade

        # logged in, every read answers, and no answer holds a password, token or hash
        headers = await login(http, base, "admin", ADMIN_PW)
        for path in READS:
            if path == "/api/v1/events":
                continue
            async with http.get(base + path, headers=headers) as res:
                assert res.status == 200, path
                text = await res.text()
            assert not any(secret in text for secret in SECRETS), path
            assert "scrypt$" not in text, path


async def test_commands_need_an_admin_and_the_csrf_token(desk: Desk, tmp_path: Path) -> None:
    await seed(desk.url)
    async with (
        control_over(desk.url, desk.state) as control,
        serve(control, desk.state.bus, web_env(tmp_path)) as base,
        aiohttp.ClientSession() as http,
    ):
        url = f"{base}/api/v1/bots/{SS}/halt"
        viewer = await login(http, base, "viewer", VIEWER_PW)
        async with http.post(url, headers=viewer) as res:
            assert res.status == 403 and "read-only" in (await res.json())["detail"]
        async with http.post(url, headers=bearer(VIEWER_TOKEN)) as res:
            assert res.status == 403

        admin = await login(http, base, "admin", ADMIN_PW)
        no_token = {"Cookie": admin["Cookie"]}
        async with http.post(url, headers=no_token) as res:
            assert res.status == 403 and "CSRF" in (await res.json())["detail"]
        async with http.post(url, headers={**no_token, "X-CSRF-Token": "forged"}) as res:
            assert res.status == 403
        # another session's token is not this session's
        other = await login(http, base, "admin", ADMIN_PW)
        assert other["X-CSRF-Token"] != admin["X-CSRF-Token"]
        stolen = {**no_token, "X-CSRF-Token": other["X-CSRF-Token"]}
        async with http.post(url, headers=stolen) as res:
            assert res.status == 403
        assert await control.audit_log() == []

        async with http.post(url, headers=admin) as res:
            assert res.status == 200
            receipt = await res.json()
        assert (receipt["bot_id"], receipt["kind"], receipt["actor"]) == (SS, "halt", "web:admin")

        # flatten is refused without the confirmation, named; a token needs no CSRF token
        flatten = f"{base}/api/v1/bots/{SS}/flatten"
        async with http.post(flatten, headers=bearer(ADMIN_TOKEN), json={"confirm": "x"}) as res:
            assert res.status == 400
            body = await res.json()
        assert body["field"] == "confirm"
        async with http.post(flatten, headers=bearer(ADMIN_TOKEN), json={"confirm": SS}) as res:
            assert res.status == 200
        ghost = f"{base}/api/v1/bots/ghost/resume"
        async with http.post(ghost, headers=bearer(ADMIN_TOKEN)) as res:
            assert res.status == 404 and (await res.json())["field"] == "bot"

        lines = await control.audit_log()
        assert [(a.command, a.actor, a.bot_id) for a in lines] == [
            ("resume", "web:admin", "ghost"), ("flatten", "web:admin", SS),
            ("halt", "web:admin", SS),
        ]  # fmt: skip
        async with http.get(f"{base}/api/v1/audit?bot={SS}", headers=admin) as res:
            audited = await res.json()
        assert [a["command"] for a in audited] == ["flatten", "halt"]
        assert all(a["at"] and a["actor"] == "web:admin" for a in audited)

        # logging out ends the session
        async with http.post(f"{base}/logout", headers=admin, allow_redirects=False) as res:
            assert res.status == 303
            cleared = res.headers["Set-Cookie"].split(";")[0]
        async with http.get(f"{base}/api/v1/session", headers={"Cookie": cleared}) as res:
            assert res.status == 401


async def test_login_attempts_are_rate_limited(desk: Desk, tmp_path: Path) -> None:
    await seed(desk.url)
    now = [1000.0]
    env = web_env(tmp_path, ALPHADESK_WEB_LOGIN_ATTEMPTS="3", ALPHADESK_WEB_LOGIN_WINDOW_S="60")
    async with (
        control_over(desk.url, desk.state) as control,
        serve(control, desk.state.bus, env, clock=lambda: now[0]) as base,
        aiohttp.ClientSession() as http,
    ):

        async def attempt(user: str, password: str) -> int:
            async with http.post(f"{base}/login", data={"username": user, "password": password},
                                 allow_redirects=False) as res:  # fmt: skip
                return res.status

        assert [await attempt("admin", f"guess-{i}") for i in range(3)] == [401, 401, 401]
        assert await attempt("admin", ADMIN_PW) == 429  # locked even with the right password
        assert await attempt("viewer", VIEWER_PW) == 429  # the address is locked too
        now[0] += 61
        assert await attempt("admin", ADMIN_PW) == 303
        async with http.post(f"{base}/login", data={"username": "x", "password": "y"},
                             headers={"Origin": "http://evil.example"}) as res:  # fmt: skip
            assert res.status == 403


def test_passwords_are_stored_hashed() -> None:
    config = web_config.load(web_env())
    admin = next(a for a in config.accounts if a.role == "admin")
    assert admin.password_hash is not None and admin.password_hash.startswith("scrypt$")
    assert ADMIN_PW not in admin.password_hash and ADMIN_PW not in repr(config)
    assert verify_password(ADMIN_PW, admin.password_hash)
    assert not verify_password(ADMIN_PW + "x", admin.password_hash)
    assert admin.token_sha256 is not None and ADMIN_TOKEN not in admin.token_sha256
    stored = hash_password("already-hashed-pw")
    again = web_config.load({"ALPHADESK_WEB_ADMIN_PASSWORD": stored})
    assert again.accounts[0].password_hash == stored


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ALPHADESK_WEB_HOST": "0.0.0.0", "ALPHADESK_WEB_ADMIN_PASSWORD": ADMIN_PW},
         "ALPHADESK_WEB_TLS_CERT"),
        ({}, "ALPHADESK_WEB_ADMIN_PASSWORD"),
        ({"ALPHADESK_WEB_ADMIN_PASSWORD": "short"}, "ALPHADESK_WEB_ADMIN_PASSWORD"),
        ({"ALPHADESK_WEB_ADMIN_PASSWORD": ADMIN_PW, "ALPHADESK_WEB_PORT": "http"},
         "ALPHADESK_WEB_PORT"),
    ],
)  # fmt: skip
def test_bad_settings_are_refused_naming_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(web_config.WebSettingsError, match=named) as caught:
        web_config.load(env)
    assert ADMIN_PW not in str(caught.value)


def test_exposed_without_a_password_is_refused(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("x")
    key.write_text("x")
    env = {"ALPHADESK_WEB_HOST": "192.0.2.10", "ALPHADESK_WEB_TLS_CERT": str(cert),
           "ALPHADESK_WEB_TLS_KEY": str(key), "ALPHADESK_WEB_ADMIN_TOKEN": ADMIN_TOKEN}  # fmt: skip
    with pytest.raises(web_config.WebSettingsError, match="without a password"):
        web_config.load(env)
    env["ALPHADESK_WEB_ADMIN_PASSWORD"] = ADMIN_PW
    assert web_config.load(env).tls


def test_hash_password_prints_a_hash_the_web_accepts() -> None:
    done = subprocess.run([sys.executable, "-m", "alphadesk.app.cli", "web", "hash-password"],
                          input="a-long-password\n", capture_output=True, text=True, timeout=60,
                          check=True)  # fmt: skip
    stored = done.stdout.strip()
    assert stored.startswith("scrypt$") and "a-long-password" not in stored
    config = web_config.load({"ALPHADESK_WEB_ADMIN_PASSWORD": stored})
    assert config.accounts[0].password_hash == stored
    assert verify_password("a-long-password", stored)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example",
                                    "evil", "/bots/x?y=1"])  # fmt: skip
async def test_login_redirects_only_within_the_site(tmp_path: Path, target: str) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    state = MemoryState()
    async with (
        control_over(url, state) as control,
        serve(control, state.bus, web_env(tmp_path)) as base,
        aiohttp.ClientSession() as http,
        http.post(f"{base}/login", allow_redirects=False, data={
            "username": "viewer", "password": VIEWER_PW, "next": target}) as res,
    ):  # fmt: skip
        assert res.status == 303
        assert res.headers["Location"] == (target if target == "/bots/x?y=1" else "/")


def test_the_command_refuses_a_public_address_without_tls(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHADESK_WEB_")}
    env.update(ALPHADESK_WEB_ADMIN_PASSWORD=ADMIN_PW,
               DATABASE_URL=f"sqlite:///{tmp_path / 'ledger.db'}")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "alphadesk.app.cli", "web", "--host", "0.0.0.0", "--port", "0"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "ALPHADESK_WEB_HOST='0.0.0.0' is not a loopback address" in done.stderr
    assert "ALPHADESK_WEB_TLS_CERT" in done.stderr and ADMIN_PW not in done.stderr
