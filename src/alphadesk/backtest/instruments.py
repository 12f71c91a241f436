"""Instrument rules for backtests when the caller gives none.

Symbols in the bundled Bybit instruments-info reply (``alphadesk/data/market/
instruments_linear.json``: BTCUSDT, ETHUSDT and ADAUSDT, see its SOURCES.md) take Bybit's own
values; a data folder's ``instruments_linear.json`` (``alphadesk data download``) comes first.
Other symbols get rules derived from their candles: the tick is the finest decimal step seen in
the prices, the qty step a power of ten about 1/1000 of one unit's price, so a backtest can size
them; the result names each symbol's source, so a derived rule never passes for Bybit's.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from alphadesk.adapters.market_store.instruments import INSTRUMENTS_FILE, read_instruments
from alphadesk.adapters.sim.feed import BarArrays
from alphadesk.data import market_dir
from alphadesk.domain.decimals import decimal_places
from alphadesk.domain.instruments import Instrument

D = Decimal
RECORDED: dict[str, Instrument] = read_instruments(market_dir() / INSTRUMENTS_FILE)
"""Bybit's rules for the bundled symbols it has a recorded reply for."""


def _decimals(values: np.ndarray) -> int:
    """Decimal places of the finest price among about 2000 sampled, 8 at most. Each distinct
    price once (the sampled prices repeat: about 60 % of Momentum's are repeats)."""
    sample = values[:: max(1, len(values) // 2000)]
    return decimal_places(set(sample.tolist()), 8)


def derived(bars: BarArrays) -> Instrument:
    tick = D(1).scaleb(-_decimals(bars.close))
    price = float(np.median(bars.close)) if len(bars) else 1.0
    exponent = max(-3, min(0, math.floor(math.log10(max(price, 1e-9))) - 3))
    step = D(1).scaleb(exponent)
    return Instrument(bars.symbol, tick, step, step, D(0))


def default_instrument(bars: BarArrays) -> Instrument:
    return RECORDED.get(bars.symbol) or derived(bars)


def instrument_source(symbol: str) -> str:
    if symbol in RECORDED:
        return "bundled Bybit instruments-info"
    return "derived from the candles (no Bybit record)"
