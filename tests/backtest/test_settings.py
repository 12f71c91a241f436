"""BacktestSettings.sim_config: the one place a backtest's and a paper bot's matching engine take
their costs from."""

from __future__ import annotations

from decimal import Decimal

from alphadesk.backtest.settings import BacktestSettings


def test_sim_config_carries_every_cost_and_the_leverage() -> None:
    settings = BacktestSettings(
        taker_fee=Decimal("0.0007"),
        maker_fee=Decimal("-0.0001"),
        slippage_bps=Decimal("2.5"),
        funding_rate=Decimal("0.0003"),
        leverage=Decimal(3),
    )
    config = settings.sim_config()
    assert (config.taker_fee, config.maker_fee) == (Decimal("0.0007"), Decimal("-0.0001"))
    assert config.slippage.bps == Decimal("2.5")
    assert config.funding_rate == Decimal("0.0003")
    assert config.default_leverage == Decimal(3)
    assert config.keep_history is True
    assert settings.sim_config(keep_history=False).keep_history is False
