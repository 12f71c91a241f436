"""Instrument rules kept as Bybit's own ``/v5/market/instruments-info`` reply.

The file is the reply's envelope with its ``list`` items unchanged, so what a backtest trades
under is exactly what Bybit said (tick, qty step, minimum order, minimum notional, max leverage),
and a newer download replaces a symbol's item without touching the others.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.parse_market import instrument_from_info
from alphadesk.adapters.market_store.files import DataFileError
from alphadesk.domain.instruments import Instrument

INSTRUMENTS_FILE = "instruments_linear.json"


def read_items(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        items = payload["result"]["list"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataFileError("file", str(path), f"is not an instruments-info reply: {exc}") from None
    if not isinstance(items, list):
        raise DataFileError(f"{path}.result.list", type(items).__name__, "must be a list")
    return [i for i in items if isinstance(i, dict)]


def read_instruments(path: Path) -> dict[str, Instrument]:
    """Symbol -> rules, from an instruments-info file (empty when there is none)."""
    out: dict[str, Instrument] = {}
    for item in read_items(path):
        try:
            info = msgspec.convert(item, w.InstrumentInfo, strict=False)
        except msgspec.ValidationError as exc:
            raise DataFileError(f"{path}.{item.get('symbol')}", None, str(exc)) from None
        out[info.symbol] = instrument_from_info(info)
    return out


def merge_items(path: Path, items: list[dict[str, Any]]) -> int:
    """Put ``items`` into the file (one per symbol, the new one wins); returns how many."""
    by_symbol = {i["symbol"]: i for i in read_items(path)}
    for item in items:
        by_symbol[str(item["symbol"])] = item
    payload = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "category": "linear",
            "list": [by_symbol[s] for s in sorted(by_symbol)],
            "nextPageCursor": "",
        },
        "retExtInfo": {},
        "time": 0,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return len(items)
