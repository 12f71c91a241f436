"""Builders for domain objects in tests and benchmarks, with sensible defaults.

Shipped inside the package (not under tests/) so benchmarks, the simulator's scenarios and later
issues build fills the same way; every builder still goes through the domain's validation.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.fills import Fill

_EXEC_IDS = itertools.count(1)
T0 = datetime(2025, 11, 7, 1, 55, tzinfo=UTC)


def make_fill(
    side: Side | str = Side.BUY,
    qty: str | Decimal = "1",
    price: str | Decimal = "100",
    fee: str | Decimal = "0",
    *,
    seconds: float = 0,
    exec_id: str | None = None,
    exec_type: ExecType = ExecType.TRADE,
    bot_id: str = "shortseller_001",
    symbol: str = "BTCUSDT",
    venue: str = "bybit",
    account: str = "shortseller",
    **extra: Any,
) -> Fill:
    """A valid fill; strings become Decimals so call sites read like Bybit's payloads."""
    return Fill(
        venue=venue,
        account=account,
        exec_id=exec_id or f"test-exec-{next(_EXEC_IDS):08d}",
        bot_id=bot_id,
        symbol=symbol,
        side=Side.parse(side) if isinstance(side, str) else side,
        price=Decimal(price),
        qty=Decimal(qty),
        fee=Decimal(fee),
        exec_time=T0 + timedelta(seconds=seconds),
        exec_type=exec_type,
        **extra,
    )
