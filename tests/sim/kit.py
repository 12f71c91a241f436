"""Shared constants and builders for the matching-engine tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.requests import OrderRequest

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC, a funding boundary
MIN5 = 300_000
HOUR = 3_600_000
SYM = "BTCUSDT"


def instrument_from_payload(item: dict[str, Any]) -> Instrument:
    lot, price = item["lotSizeFilter"], item["priceFilter"]
    return Instrument(
        symbol=item["symbol"],
        tick_size=Decimal(price["tickSize"]),
        qty_step=Decimal(lot["qtyStep"]),
        min_qty=Decimal(lot["minOrderQty"]),
        min_notional=Decimal(lot["minNotionalValue"]),
        max_qty=Decimal(lot["maxOrderQty"]),
    )


def order(side: Side, qty: str, link: str, **kw: Any) -> OrderRequest:
    return OrderRequest("bot1", SYM, side, Decimal(qty), link, **kw)


def bar(engine: MatchingEngine, n: int, o: float, h: float, lo: float, c: float) -> list[Any]:
    """Feed the n-th five-minute bar after T0."""
    return list(engine.on_bar(SYM, o, h, lo, c, T0 + n * MIN5, T0 + (n + 1) * MIN5))


def fills(events: Any) -> list[Fill]:
    return [e for e in events if isinstance(e, Fill)]
