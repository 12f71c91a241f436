"""An independent check: ema_cross in AlphaDesk and in backtesting.py give the same trades.

Convention shared by both: signal on the bar's close, fill at the next bar's open, zero fees,
slippage and funding. backtesting.py buys whole units, so both trade exactly 1 BTC: AlphaDesk
through an instrument whose qty step is 1 and an all-equity size hint with 150,000 USDT of
equity (floor(150000 / ~110000) = 1), backtesting.py through ``buy(size=1)``. Both strategies see
the same EMAs (alphadesk.indicators, TA-Lib's SMA-seeded convention).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphadesk.backtest.data import load
from alphadesk.backtest.runner import run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.instruments import Instrument
from alphadesk.indicators import ema
from alphadesk.strategies import build

D = Decimal
FILE = "BTCUSDT_5m_bybit-perp-20250924-20251122"
CASH = 150_000


def _backtesting_py(path: Path, fast: int, slow: int) -> tuple[pd.DataFrame, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from backtesting import Backtest, Strategy
        from backtesting.lib import crossover

    raw = pd.read_csv(path)
    df = pd.DataFrame(
        {
            "Open": raw["open"].to_numpy(),
            "High": raw["high"].to_numpy(),
            "Low": raw["low"].to_numpy(),
            "Close": raw["close"].to_numpy(),
            "Volume": raw["volume"].to_numpy(),
        },
        index=pd.to_datetime(raw["ts_ms"], unit="ms", utc=True).dt.tz_localize(None),
    )

    class EmaCrossBt(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            close = np.asarray(self.data.Close, dtype=float)
            self.fast = self.I(lambda: ema(close, fast), name="fast")
            self.slow = self.I(lambda: ema(close, slow), name="slow")

        def next(self) -> None:
            if not self.position and crossover(self.fast, self.slow):
                self.buy(size=1)
            elif self.position and crossover(self.slow, self.fast):
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(df, EmaCrossBt, cash=CASH, commission=0.0)
        stats = bt.run()
    return stats["_trades"], float(stats["Equity Final [$]"])


@pytest.mark.parametrize(("fast", "slow"), [(12, 26), (50, 200)])
def test_same_trades_and_final_equity_as_backtesting_py(
    market_csv: Callable[[str], Path], fast: int, slow: int
) -> None:
    path = market_csv(FILE)
    strategy = build("ema_cross", fast=fast, slow=slow)
    settings = BacktestSettings(
        initial_equity=D(CASH),
        taker_fee=D(0),
        maker_fee=D(0),
        funding_rate=D(0),
        funding_history=False,  # backtesting.py charges no funding: neither may we here
        instruments={"BTCUSDT": Instrument("BTCUSDT", D("0.1"), D(1), D(1))},
    )
    out = run(strategy, load([path]), settings)
    trades = out.fills
    trades = [f for f in trades if f.moves_position]
    entries = [f for f in trades if f.side.value == "Buy"]
    exits = [f for f in trades if f.side.value == "Sell"]
    assert all(f.qty == 1 for f in trades)

    bt_trades, bt_final = _backtesting_py(path, fast, slow)
    closed = bt_trades.sort_values("EntryTime")
    assert len(closed) == len(exits) > 10
    for (_, row), entry, exit_ in zip(closed.iterrows(), entries, exits, strict=False):
        assert entry.exec_time.replace(tzinfo=None) == row["EntryTime"].to_pydatetime()
        assert exit_.exec_time.replace(tzinfo=None) == row["ExitTime"].to_pydatetime()
        assert float(entry.price) == row["EntryPrice"]
        assert float(exit_.price) == row["ExitPrice"]
    # an entry still open at the end is in backtesting.py's equity but not in its _trades
    assert len(entries) - len(exits) in (0, 1)
    assert out.final_equity.quantize(D("0.01")) == D(repr(bt_final)).quantize(D("0.01"))
