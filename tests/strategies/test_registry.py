"""build(): defaults are the seed's, overrides are checked by name and value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphadesk.strategies import STRATEGIES, build
from alphadesk.strategies.ema_cross import EmaCross
from alphadesk.strategies.lxalgo import LxAlgo
from alphadesk.strategies.momentum import Momentum
from alphadesk.strategies.shortseller import ShortSeller


def test_registry_has_the_four_strategies() -> None:
    assert set(STRATEGIES) == {"ema_cross", "shortseller", "lxalgo", "momentum"}
    for name, cls in STRATEGIES.items():
        strategy = build(name)
        assert isinstance(strategy, cls)
        assert strategy.name == name


def test_defaults_are_the_seed_parameters() -> None:
    ss = build("shortseller")
    assert isinstance(ss, ShortSeller)
    assert ss.symbols == ("BTCUSDT", "ETHUSDT", "SOLUSDT")
    assert (ss.params.ema_fast, ss.params.ema_slow, ss.params.max_daily_crosses) == (240, 600, 12)
    assert ss.params.allocation == Decimal("0.07") and ss.params.leverage == Decimal(10)
    lx = build("lxalgo")
    assert isinstance(lx, LxAlgo)
    assert (lx.params.rsi_period, lx.params.max_active_trades) == (84, 20)
    assert lx.params.position_usdt == Decimal(200)
    mo = build("momentum")
    assert isinstance(mo, Momentum)
    assert len(mo.symbols) == 44 and mo.timeframe_min == 240
    assert mo.params.bb_ddof == 1 and mo.params.use_btc_regime_filter is False
    ec = build("ema_cross")
    assert isinstance(ec, EmaCross)
    assert (ec.params.fast, ec.params.slow) == (12, 26)


def test_overrides_are_coerced() -> None:
    lx = build("lxalgo", max_active_trades=5, position_usdt=150.5, symbols=["BTCUSDT"])
    assert lx.params.max_active_trades == 5
    assert lx.params.position_usdt == Decimal("150.5")
    assert lx.symbols == ("BTCUSDT",)
    ec = build("ema_cross", timeframe_min=60)
    assert ec.timeframe_min == 60


def test_shortseller_risk_table_from_plain_mappings() -> None:
    ss = build(
        "shortseller",
        asset_risk=[
            {
                "symbol": "XRPUSDT",
                "stop_loss_pct": 2,
                "take_profit_pct": "5",
                "trailing_pct": 1.5,
                "trailing_activation_pct": 2,
            }
        ],
    )
    assert ss.symbols == ("XRPUSDT",)
    assert ss.params.asset_risk[0].trailing_pct == Decimal("1.5")


def test_unknown_strategy_is_named() -> None:
    with pytest.raises(ValueError, match="strategy='nope'"):
        build("nope")


@pytest.mark.parametrize(
    ("name", "overrides", "field"),
    [
        ("lxalgo", {"max_trades": 3}, "max_trades"),
        ("lxalgo", {"max_active_trades": 0}, "max_active_trades"),
        ("lxalgo", {"max_active_trades": "20"}, "max_active_trades"),
        ("lxalgo", {"position_usdt": "abc"}, "position_usdt"),
        ("ema_cross", {"fast": 30}, "slow"),
        ("momentum", {"risk": 2}, "risk"),
        ("momentum", {"use_btc_regime_filter": 1}, "use_btc_regime_filter"),
        ("shortseller", {"allocation": 0}, "allocation"),
        ("shortseller", {"asset_risk": [{"symbol": "X"}]}, "asset_risk"),
    ],
)
def test_bad_overrides_name_the_parameter(
    name: str, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        build(name, **overrides)
