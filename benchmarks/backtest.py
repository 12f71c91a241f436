"""Backtest speed: bars per second for each strategy over >= 1,000,000 bars, and backtesting.py
on the same ema_cross in the same run.

Data: the real candle files repeated end to end until there are a million bars, each copy shifted
in time and rescaled so its first open continues the previous copy's last close (a long series
with real bar-to-bar returns and no jumps at the joins). Timing covers the whole backtest call
(indicator precompute, the bar loop, the matching engine) and excludes reading the CSVs. Only
the symbols a strategy trades are repeated, so each figure covers >= 1,000,000 traded bars.
Momentum runs with its 20 % peak-drawdown latch raised (99 %): with the default it stops entering
for good a few copies in and most of the million bars would be idle; and over the eight bundled
4-hour coins (a million bars of six would reach past 2100, where the ledger refuses a fill's time).

backtesting.py gets the same bars, the same EMA function (computed inside its timed run, as ours
is), the same crossover rules and its default per-bar ``next()`` loop, no commission,
``finalize_trades=True``; it makes as many trades as AlphaDesk's ema_cross here (19,434; see
tests/backtest/test_backtesting_py.py for the pinned comparison).
Times are CPU time (``time.process_time``) of this process, so another process's load does not
add its own time to them; it still slows this process's (shared caches, a busy sibling core, the
clock), and on the two-core machine identical runs were seen 30 % apart (the compiled
ema_cross, half a second a run, 56 % apart in one process). So each figure is the fastest of
``BENCH_REPEAT`` runs (5 by default, as timeit's ``repeat``: a run is never faster than the code
allows, only slower by what else happened), with every run's
time and the spread on stderr; ``BENCH_REPEAT=1`` times one run. Each timed run starts after a
full garbage collection: a finished run leaves its
engine's reference cycles (and the fills and orders they hold) to the cyclic collector, and one
collection of a previous million-bar run inside the next run's timing added 10-30 us to its
per-order figure, depending only on when the collector's counters fired.
Printed one per line as ``NAME: N bars/s``, then for ema_cross ``ema_cross: N us/order``
(CPU time over the orders it placed) and ``ema_cross: N calls/order`` (Python function calls
counted with ``sys.setprofile`` over a separate, shorter run of ``BENCH_COUNT_BARS`` bars, 200,000
by default: counting slows the run, so it is never timed; with two decimals below 10, since on
the mypyc build the per-order path makes no Python-level call at all), then ``ratio
ema_cross/backtesting.py: X``. Goals (issue 17): ratio >= 10, <= 15 us/order, >= 1,000,000
bars/s for every strategy. Run: ``.venv/bin/python benchmarks/backtest.py``; against the mypyc
build (scripts/build_native.py), with ``PYTHONPATH=build/native`` in front.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np

from alphadesk.adapters.sim.feed import BarArrays, load_csv
from alphadesk.backtest.data import align
from alphadesk.backtest.runner import RunOutput, run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.data import market_dir
from alphadesk.domain.instruments import Instrument
from alphadesk.indicators import ema
from alphadesk.strategies import build

TARGET = int(os.environ.get("BENCH_BARS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
COUNT_BARS = int(os.environ.get("BENCH_COUNT_BARS", "200000"))
# Candles the package ships, then the test-only ones (the 2022 1-minute file).
MARKET_DIRS = (market_dir(), Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "market")
FIVE = [f"{s}USDT_5m_bybit-perp-20250924-20251122.csv" for s in ("BTC", "ETH", "SOL")]
FOUR = [
    f"{s}USDT_4h_bybit-perp-20250924-20260721.csv"
    for s in ("AAVE", "ADA", "APE", "AVAX", "BNB", "BTC", "ETH", "SOL")
]
ONE_MIN = ["BTCUSDT_1m_btc-perp-2022-01.csv"]


def _market(name: str) -> Path:
    for directory in MARKET_DIRS:
        if (directory / name).is_file():
            return directory / name
    raise SystemExit(f"candles {name} not found in {' or '.join(map(str, MARKET_DIRS))}")


def repeat(bars: BarArrays, copies: int) -> BarArrays:
    """Copies end to end, every other one played backwards (open and close swapped), so each
    copy starts where the previous one ended and prices do not drift away over the copies."""
    step = int(bars.ts_ms[1] - bars.ts_ms[0])
    n = len(bars)
    parts: list[tuple[np.ndarray, ...]] = []
    for j in range(copies):
        if j % 2 == 0:
            parts.append((bars.open, bars.high, bars.low, bars.close, bars.volume))
        else:
            parts.append(
                (
                    bars.close[::-1],
                    bars.high[::-1],
                    bars.low[::-1],
                    bars.open[::-1],
                    bars.volume[::-1],
                )
            )
    ts = bars.ts_ms[0] + step * np.arange(n * copies, dtype=np.int64)
    o, h, lo, c, v = (np.concatenate([p[k] for p in parts]) for k in range(5))
    return BarArrays(bars.symbol, bars.interval_min, ts, o, h, lo, c, v)


def dataset(  # type: ignore[no-untyped-def]
    files: list[str], symbols: tuple[str, ...] = (), target: int = TARGET
):
    """Only the files of ``symbols`` (all when empty), repeated to >= ``target`` bars in total."""
    series = [load_csv(_market(f)) for f in files]
    if symbols:
        series = [s for s in series if s.symbol in symbols]
    per_copy = sum(len(s) for s in series)
    copies = -(-target // per_copy)
    return align([repeat(s, copies) for s in series])


def count_calls(fn: Callable[[], object]) -> int:
    """Python function calls made while ``fn`` runs (``sys.setprofile`` ``call`` events)."""
    calls = 0

    def counter(_frame: object, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(counter)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def orders_of(out: RunOutput) -> int:
    return len({f.order_id for f in out.fills if f.order_id})  # funding has no order


def collected() -> None:
    """A full collection before a timed run: the previous run's garbage goes here, not inside
    this one's timing."""
    gc.collect()


def fastest(label: str, timed: Callable[[], float]) -> float:
    """The least of ``REPEAT`` CPU times of ``timed()``, with every time and the spread on
    stderr. ``timed`` drops what its previous run kept, then collects (:func:`collected`)."""
    times = [timed() for _ in range(max(1, REPEAT))]
    best = min(times)
    shown = ", ".join(f"{t:.2f}" for t in times)
    spread = max(times) / best - 1
    print(f"  ({label}: CPU s per run {shown}; the fastest counts, slowest +{spread:.0%})",
          file=sys.stderr)
    return best


def bench(
    name: str, files: list[str], settings: BacktestSettings, *, per_order: bool = False,
    **params: object,
) -> float:
    data = dataset(files, build(name, **params).symbols)  # the traded symbols make the million
    outputs: list[RunOutput] = []
    fills: set[int] = set()  # each run's fill count: the runs must agree

    def timed() -> float:
        strategy = build(name, **params)  # a fresh strategy each run: its state is per run
        outputs.clear()
        collected()
        started = time.process_time()
        outputs.append(run(strategy, data, settings))
        seconds = time.process_time() - started
        fills.add(len(outputs[0].fills))
        if len(fills) > 1:
            raise SystemExit(f"{name}: runs of the same data made {sorted(fills)} fills")
        return seconds

    seconds = fastest(name, timed)
    out = outputs[0]
    rate = out.data.bar_count / seconds  # bars of the symbols the strategy trades
    orders = orders_of(out)
    print(f"{name}: {rate:,.0f} bars/s", flush=True)
    print(
        f"  ({out.data.bar_count:,} bars in {seconds:.2f} s CPU, {orders:,} orders, "
        f"{len(out.fills):,} fills, {out.strategy_calls:,} strategy calls)",
        file=sys.stderr,
    )
    if per_order:
        print(f"{name}: {seconds / orders * 1e6:.1f} us/order", flush=True)
        small = dataset(files, out.strategy.symbols, COUNT_BARS)
        counted: list[RunOutput] = []
        calls = count_calls(lambda: counted.append(run(build(name, **params), small, settings)))
        per_call = calls / orders_of(counted[0])
        # whole calls while there are many; on the compiled build, where every per-order function
        # is native and no Python-level call is left, the few of the whole run show as a fraction
        shown = f"{per_call:.0f}" if per_call >= 10 else f"{per_call:.2f}"
        print(f"{name}: {shown} calls/order", flush=True)
    return rate


def bench_backtesting_py(fast: int, slow: int) -> float:
    import pandas as pd  # type: ignore[import-untyped]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from backtesting import Backtest, Strategy
        from backtesting.lib import crossover

    data = dataset(ONE_MIN)
    bars = data.series["BTCUSDT"]
    df = pd.DataFrame(
        {
            "Open": bars.open,
            "High": bars.high,
            "Low": bars.low,
            "Close": bars.close,
            "Volume": bars.volume,
        },
        index=pd.to_datetime(bars.ts_ms, unit="ms"),
    )

    class EmaCrossBt(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            close = np.asarray(self.data.Close, dtype=float)
            self.fast = self.I(lambda: ema(close, fast))
            self.slow = self.I(lambda: ema(close, slow))

        def next(self) -> None:
            if not self.position and crossover(self.fast, self.slow):
                self.buy(size=1)
            elif self.position and crossover(self.slow, self.fast):
                self.position.close()

    trades: list[object] = []

    def timed() -> float:
        trades.clear()
        collected()
        started = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stats = Backtest(
                df, EmaCrossBt, cash=10_000_000, commission=0.0, finalize_trades=True
            ).run()
        trades.append(stats["# Trades"])
        return time.process_time() - started

    seconds = fastest("backtesting.py ema_cross", timed)
    rate = len(df) / seconds
    print(f"backtesting.py ema_cross: {rate:,.0f} bars/s", flush=True)
    print(f"  ({len(df):,} bars in {seconds:.2f} s CPU, {trades[0]} trades)",
          file=sys.stderr)
    return rate


def main() -> None:
    import alphadesk.adapters.sim.core as core

    compiled = not str(core.__file__).endswith(".py")
    print(f"  (build: {'native, mypyc' if compiled else 'pure Python'})", file=sys.stderr)
    default = BacktestSettings()
    bench("shortseller", FIVE, default)
    bench("lxalgo", FIVE, default)
    # the default 20 % peak drawdown latch stops Momentum's entries for good a few copies in,
    # which would leave most of the million bars idle; raised so the whole series is traded
    # and its universe is the eight bundled 4-hour coins (its default one holds six of them, whose
    # million 4-hour bars would run past 2100, the ledger's bound on a fill's time)
    bench("momentum", FOUR, default, max_drawdown_pct=99,
          symbols=tuple(f.split("_")[0] for f in FOUR))
    fast, slow = 12, 26
    same_as_bt = BacktestSettings(
        initial_equity=Decimal(10_000_000),
        taker_fee=Decimal(0),
        maker_fee=Decimal(0),
        funding_rate=Decimal(0),
        instruments={"BTCUSDT": Instrument("BTCUSDT", Decimal("0.1"), Decimal(1), Decimal(1))},
    )
    ours = bench(
        "ema_cross",
        ONE_MIN,
        same_as_bt,
        per_order=True,
        fast=fast,
        slow=slow,
        equity_fraction=Decimal("0.006"),
        timeframe_min=1,
    )
    theirs = bench_backtesting_py(fast, slow)
    print(f"ratio ema_cross/backtesting.py: {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
