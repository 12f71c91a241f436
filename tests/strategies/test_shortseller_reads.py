"""ShortSeller reads its row through ``_reads``: on the backtest's ArrayRow (a direct, compiled
call on the native build) and on any other ``Row`` the same values as the protocol's
``ind[name]`` and ``ind.prev(name)``, NaN warm-up included; and an entry's reason is the one the
former ``"cross_below_" + "_".join(crossed)`` gave, for each cross and any EMA periods; an entry's
protection levels are the former arithmetic's Decimals."""

from __future__ import annotations

import math
import random
from array import array
from decimal import Decimal

import pytest
from tests.strategies.row_doubles import DictRow, bits

from alphadesk.domain.decimals import to_decimal
from alphadesk.domain.intents import EnterIntent
from alphadesk.strategies import build
from alphadesk.strategies.builtin_params import AssetRisk, ShortSellerParams
from alphadesk.strategies.rows import ArrayRow, row_type
from alphadesk.strategies.shortseller import HUNDRED, ShortSeller, _reads
from alphadesk.testing.strategy_harness import RecordingContext, make_bar, utc_ms

NAN = math.nan
COLS = {
    "close": array("d", [NAN, 1.5, -0.0, 2.0, 1e300, 3.0, 2.0]),
    "ema_fast": array("d", [NAN, 1.5, 2.25, -0.0, 3.0, 1e300, 2.0]),
    "ema_slow": array("d", [NAN, NAN, 2.0, 0.0, 3.5, -1e-300, 2.0]),
}


@pytest.mark.parametrize("i", range(7))
def test_reads_read_what_the_row_protocol_reads(i: int) -> None:
    rows = [ArrayRow(COLS, i), row_type(COLS)(COLS, i), DictRow(COLS, i)]
    for row in rows:
        spelled = (
            row["ema_fast"],
            row["ema_slow"],
            row.prev("close"),
            row.prev("ema_fast"),
            row.prev("ema_slow"),
        )
        assert bits(_reads(row)) == bits(spelled)
        assert bits(_reads(row)) == bits(_reads(rows[0]))


# (prev close, close, fast EMA, slow EMA) -> the EMAs crossed below, fast first; all ACTIVE
CROSSES = {
    (100.5, 99.0, 100.0, 101.0): ("fast",),
    (101.5, 99.0, 100.0, 101.0): ("fast", "slow"),
    (101.5, 99.0, 102.0, 101.0): ("slow",),
}


@pytest.mark.parametrize("periods", [(240, 600), (50, 200)])
@pytest.mark.parametrize("case", sorted(CROSSES))
@pytest.mark.parametrize("compiled_row", [True, False])
def test_entry_reason_names_the_crossed_emas(
    periods: tuple[int, int], case: tuple[float, float, float, float], compiled_row: bool
) -> None:
    fast, slow = periods
    strategy = build("shortseller", ema_fast=fast, ema_slow=slow)
    assert isinstance(strategy, ShortSeller)
    prev_close, close, ema_fast, ema_slow = case
    cols = {
        "close": array("d", [prev_close, close]),
        "ema_fast": array("d", [ema_fast, ema_fast]),
        "ema_slow": array("d", [ema_slow, ema_slow]),
    }
    row = ArrayRow(cols, 1) if compiled_row else DictRow(cols, 1)
    ctx = RecordingContext()
    t = utc_ms(2025, 10, 1, 10, 0)
    ctx.now_ms = t
    strategy.on_bar(ctx, make_bar("BTCUSDT", t, close), row)
    (intent,) = ctx.take()
    names = {"fast": f"ema{fast}", "slow": f"ema{slow}"}
    crossed = [names[which] for which in CROSSES[case]]
    assert isinstance(intent, EnterIntent)
    assert intent.reason == "cross_below_" + "_".join(crossed)
    assert strategy.cross_count("BTCUSDT") == len(crossed)


@pytest.mark.parametrize("seed", range(4))
def test_entry_levels_equal_the_former_arithmetic(seed: int) -> None:
    """The stop loss, take profit and trailing activation from the multipliers made once are the
    Decimals (same digits) the entry computed each time, ``ref * (1 +- pct / 100)``."""
    rng = random.Random(seed)

    def pct() -> Decimal:
        digits = str(rng.uniform(0.001, 99.999))[: rng.randint(3, 20)].rstrip(".")
        return Decimal(digits) if Decimal(digits) > 0 else Decimal("0.5")

    risks = tuple(
        AssetRisk(symbol, pct(), pct(), pct(), pct())
        for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT")
    )
    strategy = ShortSeller(ShortSellerParams(asset_risk=risks))
    ctx = RecordingContext()
    ctx.now_ms = utc_ms(2025, 10, 1, 10, 0)
    for risk in risks:
        for _ in range(50):
            close = rng.choice([rng.uniform(1e-6, 1e6), 0.1 + 0.2, 123456.789, 1e-300])
            strategy._enter(ctx, risk.symbol, close, risk, "r")
            (intent,) = ctx.take()
            assert isinstance(intent, EnterIntent)
            ref = to_decimal(float(close))
            assert intent.ref_price == ref
            want = (
                ref * (1 + risk.stop_loss_pct / HUNDRED),
                ref * (1 - risk.take_profit_pct / HUNDRED),
                ref * risk.trailing_pct / HUNDRED,
                ref * (1 - risk.trailing_activation_pct / HUNDRED),
            )
            assert intent.trailing is not None
            got = (
                intent.stop_loss,
                intent.take_profits[0].price,
                intent.trailing.distance,
                intent.trailing.activation_price,
            )
            assert [str(v) for v in got] == [str(v) for v in want]
