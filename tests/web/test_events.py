"""The server-sent event stream: a snapshot on connect, alerts from ``events:alerts`` and fills
from the bus as they are published, read over a real HTTP connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from alphadesk.domain.alerts import Alert
from alphadesk.testing.builders import make_fill
from control.control_support import SS, control_over, seed

from .conftest import Desk
from .web_support import VIEWER_TOKEN, bearer, serve, web_env


async def sse(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) pairs as the stream delivers them."""
    event, data = "message", ""
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if data:
                yield event, json.loads(data)
            event, data = "message", ""
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


async def events(stream: AsyncIterator[tuple[str, Any]], *names: str) -> dict[str, Any]:
    """The first event of each name, in whatever order they come."""
    seen: dict[str, Any] = {}
    async with asyncio.timeout(20):
        async for event, data in stream:
            if event in names:
                seen.setdefault(event, data)
                if len(seen) == len(names):
                    return seen
    raise AssertionError(f"the stream ended before {names} (saw {sorted(seen)})")


async def next_event(stream: AsyncIterator[tuple[str, Any]], name: str) -> Any:
    return (await events(stream, name))[name]


async def test_snapshot_alerts_and_fills_are_pushed(desk: Desk, tmp_path: Path) -> None:
    await seed(desk.url)
    async with (
        control_over(desk.url, desk.state) as control,
        serve(control, desk.state.bus, web_env(tmp_path)) as base,
        aiohttp.ClientSession(headers=bearer(VIEWER_TOKEN)) as http,
        http.get(f"{base}/api/v1/events") as res,
    ):
        assert res.status == 200 and res.content_type == "text/event-stream"
        stream = sse(res)
        first = await events(stream, "snapshot", "pnl")  # what a new browser gets at once
        snapshot, pnl = first["snapshot"], first["pnl"]
        assert snapshot["status"]["total_equity"] == "15024.5"
        assert Decimal(pnl["total"][SS]) == Decimal("-0.3")
        assert Decimal(pnl["total"]["lxalgo_001"]) == 20

        raised = Alert("forced_fill", "bybit", "shortseller", "BTCUSDT",
                       "liquidation of 0.5 BTCUSDT", datetime.now(UTC))  # fmt: skip
        await desk.state.bus.alert(raised)
        alert = await next_event(stream, "alert")
        assert (alert["kind"], alert["message"]) == ("forced_fill", "liquidation of 0.5 BTCUSDT")

        fill = make_fill("Buy", "0.1", "101", "0", bot_id=SS, account="shortseller",
                         exec_id="sse-1")  # fmt: skip
        await desk.state.bus.publish_fills([fill])
        pushed = await next_event(stream, "fill")
        assert (pushed["exec_id"], pushed["price"], pushed["side"]) == ("sse-1", "101", "Buy")
