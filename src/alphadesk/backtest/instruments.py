"""Instrument rules for backtests when the caller gives none.

BTCUSDT and ETHUSDT take Bybit's own values from the recorded instruments-info payload
(``http_get_instruments_linear.json``). Other symbols get rules derived from their candles: the tick
is the finest decimal step seen in the prices, the qty step a power of ten about 1/1000 of one
unit's price, so a backtest can size them; pass real rules through the settings when they matter.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from alphadesk.adapters.sim.feed import BarArrays
from alphadesk.domain.instruments import Instrument

D = Decimal
RECORDED: dict[str, Instrument] = {
    "BTCUSDT": Instrument("BTCUSDT", D("0.5"), D("0.001"), D("0.001"), D("5")),
    "ETHUSDT": Instrument("ETHUSDT", D("0.05"), D("0.01"), D("0.01"), D("5")),
}


def _decimals(values: np.ndarray) -> int:
    sample = values[:: max(1, len(values) // 2000)]
    places = 0
    for value in sample.tolist():
        text = repr(float(value))
        if "e" in text:
            return 8
        if "." in text:
            places = max(places, len(text.split(".")[1].rstrip("0")))
    return min(places, 8)


def derived(bars: BarArrays) -> Instrument:
    tick = D(1).scaleb(-_decimals(bars.close))
    price = float(np.median(bars.close)) if len(bars) else 1.0
    exponent = max(-3, min(0, math.floor(math.log10(max(price, 1e-9))) - 3))
    step = D(1).scaleb(exponent)
    return Instrument(bars.symbol, tick, step, step, D(0))


def default_instrument(bars: BarArrays) -> Instrument:
    return RECORDED.get(bars.symbol) or derived(bars)
