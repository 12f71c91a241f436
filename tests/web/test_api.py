"""The REST API over a seeded ledger: every figure is the ledger's (worked out by hand in
``control.control_support``) and equal to what the facade itself answers."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import aiohttp

from alphadesk.web.jsonview import to_jsonable
from control.control_support import LX, SS, control_over, seed

from .conftest import Desk
from .web_support import VIEWER_TOKEN, bearer, serve, web_env


async def test_reads_equal_the_ledger_and_the_facade(desk: Desk, tmp_path: Path) -> None:
    await seed(desk.url)
    async with (
        control_over(desk.url, desk.state) as control,
        serve(control, desk.state.bus, web_env(tmp_path)) as base,
        aiohttp.ClientSession(headers=bearer(VIEWER_TOKEN)) as http,
    ):

        async def get(path: str) -> object:
            async with http.get(base + path) as res:
                assert res.status == 200, (path, await res.text())
                return await res.json()

        assert await get("/api/v1/bots") == [LX, SS]

        status = await get("/api/v1/status")
        assert isinstance(status, dict)
        lines = {b["bot_id"]: b for b in status["bots"]}
        assert (lines[SS]["mode"], lines[SS]["trading_state"], lines[SS]["open_positions"]) == (
            "demo", "ACTIVE", 1,
        )  # fmt: skip
        assert Decimal(lines[SS]["equity"]) == Decimal("10004.5")
        assert Decimal(status["total_equity"]) == Decimal("15024.5")
        assert status == to_jsonable(await control.status())

        analytics = await get("/api/v1/analytics")
        assert isinstance(analytics, dict)
        assert analytics["total_fills"] == 7
        assert Decimal(analytics["total_volume"]) == 855
        assert Decimal(analytics["net_pnl"]) == Decimal("19.7")
        assert Decimal(analytics["fees"]) == Decimal("0.355")

        daily = await get(f"/api/v1/pnl/daily?bot={SS}&rows=7")
        assert daily == to_jsonable(await control.pnl_table("daily", SS, 7))
        assert isinstance(daily, dict) and daily["total"]["trades"] == 2
        assert Decimal(daily["total"]["net_pnl"]) == Decimal("-0.3")

        perf = await get(f"/api/v1/performance?bot={LX}")
        assert isinstance(perf, dict) and perf["curve_source"] == "trades"
        assert [Decimal(p["equity"]) for p in perf["curve"]] == [5000, 5020]
        assert Decimal(perf["metrics"]["net_pnl"]) == 20

        positions = await get("/api/v1/positions")
        assert isinstance(positions, list) and len(positions) == 1
        (position,) = positions
        assert (position["bot_id"], position["symbol"], Decimal(position["size"])) == (
            SS, "BTCUSDT", Decimal("0.5"),
        )  # fmt: skip

        # round trips: paged, filtered, and the CSV holds the same rows
        trips = await get(f"/api/v1/trades?bot={SS}&per_page=1")
        assert isinstance(trips, dict) and trips["total"] == 2 and len(trips["trades"]) == 1
        page2 = await get(f"/api/v1/trades?bot={SS}&per_page=1&page=2")
        assert isinstance(page2, dict)
        nets = sorted(Decimal(t["net_pnl"]) for t in trips["trades"] + page2["trades"])
        assert nets == [Decimal("-10.1"), Decimal("9.8")]
        eth = await get(f"/api/v1/trades?bot={SS}&symbol=ethusdt")
        assert isinstance(eth, dict) and [t["symbol"] for t in eth["trades"]] == ["ETHUSDT"]
        assert eth["trades"][0]["holding_seconds"] == 7200
        assert Decimal(eth["trades"][0]["fees"]) == Decimal("0.1")
        async with http.get(f"{base}/api/v1/trades.csv?bot={SS}") as res:
            assert res.status == 200 and res.content_type == "text/csv"
            rows = list(csv.DictReader(io.StringIO(await res.text())))
        assert sorted(Decimal(r["net_pnl"]) for r in rows) == nets
        assert {"fees", "funding", "net_pnl", "holding_seconds", "exit_reason"} <= set(rows[0])

        async with http.get(f"{base}/api/v1/status?bot=nobody") as res:
            assert res.status == 404
            body = await res.json()
        assert body["field"] == "bot" and "nobody" in body["detail"]

        health = await get("/api/v1/health")
        assert isinstance(health, dict) and "spool_depth" in health and "bus_ok" in health

        overview = await get("/api/v1/overview")
        assert isinstance(overview, dict)
        assert overview["status"]["total_equity"] == status["total_equity"]

        spec = await get("/api/v1/openapi.json")
        assert isinstance(spec, dict)
        assert {"/api/v1/status", "/api/v1/trades", "/api/v1/bots/{bot}/halt"} <= set(spec["paths"])
        schemas = spec["components"]["schemas"]  # the facade's views, documented field by field
        assert {"DeskStatus", "RoundTripView", "CommandReceipt", "PnlTable"} <= set(schemas)
        assert {"type": "string"} in schemas["BotStatusLine"]["properties"]["equity"]["anyOf"]


async def test_backtests_list_open_and_compare(desk: Desk, tmp_path: Path) -> None:
    await seed(desk.url)
    folder = tmp_path / "bt"
    folder.mkdir()
    for name, final in (("a.json", "10100"), ("b.json", "9900")):
        result = {"strategy": "ema_cross", "metrics": {"final_equity": final},
                  "equity_curve": [[0, "10000"], [60_000, final]]}  # fmt: skip
        (folder / name).write_text(json.dumps(result))
    (folder / "a.html").write_text("<html><body><h1>Report A</h1></body></html>")
    (folder / "notes.txt").write_text("not listed")
    async with (
        control_over(desk.url, desk.state) as control,
        serve(control, desk.state.bus, web_env(folder)) as base,
        aiohttp.ClientSession(headers=bearer(VIEWER_TOKEN)) as http,
    ):
        async with http.get(f"{base}/api/v1/backtests") as res:
            listed = {f["name"]: f["kind"] for f in await res.json()}
        assert listed == {"a.json": "result", "b.json": "result", "a.html": "report"}
        async with http.get(f"{base}/api/v1/backtests/compare?a=a.json&b=b.json") as res:
            both = await res.json()
        assert (both["a"]["metrics"]["final_equity"], both["b"]["metrics"]["final_equity"]) == (
            "10100", "9900",
        )  # fmt: skip
        async with http.get(f"{base}/backtests/files/a.html") as res:
            assert res.status == 200 and "Report A" in await res.text()
            assert "sandbox" in res.headers["Content-Security-Policy"]
        for bad in ("..%2Fsecret.json", ".hidden.json", "notes.txt"):
            async with http.get(f"{base}/api/v1/backtests/{bad}") as res:
                assert res.status in (400, 404), bad
        async with http.get(f"{base}/api/v1/backtests/missing.json") as res:
            assert res.status == 404
