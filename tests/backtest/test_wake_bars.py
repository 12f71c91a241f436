"""The wake masks are a pure optimisation: every strategy's golden backtest gives byte-identical
JSON whether the loop visits every bar (``skip_quiet_bars=False``: no masks, a call per bar) or
only the bars the strategy declares (``wake_bars``), and the masked run really skips bars."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphadesk.backtest.data import load
from alphadesk.backtest.result import summarize, to_json
from alphadesk.backtest.runner import RunOutput, run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.strategies import build

FIVE = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH", "SOL")]
FOUR = [
    f"{s}USDT_4h_bybit-perp-20250924-20260721"
    for s in ("AAVE", "ADA", "APE", "AVAX", "BNB", "BTC", "ETH", "SOL")
]
CASES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "shortseller": (FIVE, {}),
    "lxalgo": (FIVE, {}),
    "momentum": (FOUR, {}),
    "ema_cross": (FIVE[:1], {"fast": 20, "slow": 50}),
    "ema_cross_1m": (
        ["BTCUSDT_1m_btc-perp-2022-01"],
        {"fast": 12, "slow": 26, "timeframe_min": 1, "equity_fraction": Decimal("0.5")},
    ),
}


def _run(case: str, paths: list[Path], skip: bool) -> tuple[str, RunOutput]:
    _, params = CASES[case]
    name = "ema_cross" if case.startswith("ema_cross") else case
    out = run(build(name, **params), load(paths), BacktestSettings(skip_quiet_bars=skip))
    return to_json(summarize(out)), out


@pytest.mark.parametrize("case", sorted(CASES))
def test_wake_masks_change_nothing(case: str, market_csv: Callable[[str], Path]) -> None:
    paths = [market_csv(f) for f in CASES[case][0]]
    every_json, every = _run(case, paths, skip=False)
    woken_json, woken = _run(case, paths, skip=True)
    assert every.fills, "the reference run must trade for the comparison to mean anything"
    assert every.strategy_calls == every.data.bar_count  # the reference calls on every bar
    assert woken.strategy_calls < every.strategy_calls / 2  # the masks really skip bars
    assert woken_json == every_json
