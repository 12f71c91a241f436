"""Closed bars on ``events:bars``: JSON floats (``repr`` digits, so they round-trip exactly)."""

from __future__ import annotations

import json
from typing import Any

from alphadesk.domain.bars import Bar
from alphadesk.domain.errors import InvalidField

_FLOATS = ("open", "high", "low", "close", "volume", "turnover")


def encode_bar(bar: Bar) -> bytes:
    data: dict[str, Any] = {
        "symbol": bar.symbol,
        "interval_min": bar.interval_min,
        "open_time_ms": bar.open_time_ms,
    }
    for name in _FLOATS:
        data[name] = getattr(bar, name)
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()


def decode_bar(raw: bytes | str) -> Bar:
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidField("bar", raw, "is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidField("bar", raw, "must be a JSON object")
    symbol = data.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise InvalidField("bar.symbol", symbol, "must be a non-empty str")
    ints = {}
    for name in ("interval_min", "open_time_ms"):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidField(f"bar.{name}", value, "must be an int")
        ints[name] = value
    floats = {}
    for name in _FLOATS:
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidField(f"bar.{name}", value, "must be a number")
        floats[name] = float(value)
    return Bar(
        symbol=symbol,
        interval_min=ints["interval_min"],
        open_time_ms=ints["open_time_ms"],
        open=floats["open"],
        high=floats["high"],
        low=floats["low"],
        close=floats["close"],
        volume=floats["volume"],
        turnover=floats["turnover"],
    )
