"""LXAlgo: long USDT perpetuals after a pump, on 5-minute closes (seed_system.md 2.2).

Per closed bar: RSI(84); volatility = sample std of 144 one-bar returns; spread = (high - low) /
close; price and volume change over 144 bars; score = [RSI > 60] + [volume change > 50 %] +
[spread < 3 %] + [volatility > 0.005] + [price change > 5 %]. A symbol is a candidate when the
pump gate holds ((close - open 12 bars earlier) / that open >= 8 %: the seed's ``open[-13]``) and
"Rule 8" (score >= 2 and spread < 4 %) or else "Rule 6" (RSI > 55 and volatility > 0.008) fires.

Entries are decided once per close time (``on_bars_closed``), in symbol order, so the result does
not depend on the order bars arrive in: trading allowed by the drawdown ladder, the symbol not
held (the seed's "has open position" stub let it add; fixed), at most one entry per symbol per
fixed 4-hour UTC bucket, fewer than 20 open positions. Each entry is $200 (x the weekly size
factor) with TP +30 %, SL -8 % and a trailing stop of 10 % of the entry armed at +20 %, all set on
the position.

Held positions, on every close: at +8 % unrealised the stop moves to the average entry once
(``breakeven``); aged >= 8 h and losing -> ``8h_negative_pnl``; aged >= 72 h -> ``expiry_72h`` (the
seed only forgot such trades and left them open; we close them). Ages count from the entry fill
floored to the bar grid. The drawdown ladder (``drawdown.LxLadder``) closes this bot's positions
(the seed closed every position on the account) and pauses or halts entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import numpy as np

from alphadesk.domain.bars import Bar
from alphadesk.domain.decimals import to_decimal
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import NotionalSize
from alphadesk.strategies import specs
from alphadesk.strategies.api import Columns, Row, Strategy, StrategyContext, WakeMask
from alphadesk.strategies.builtin_params import LxAlgoParams
from alphadesk.strategies.drawdown import LxLadder
from alphadesk.strategies.periods import HOUR_MS, MINUTE_MS, bucket_key, floor_to
from alphadesk.strategies.portfolio_reads import entry_of
from alphadesk.strategies.protection import take_profit, trailing
from alphadesk.strategies.specs import IndicatorSpec

HUNDRED = Decimal(100)


class LxAlgo(Strategy[LxAlgoParams]):
    name = "lxalgo"
    timeframe_min = 5
    params_type = LxAlgoParams
    warmup_bars = 200

    def __init__(self, params: LxAlgoParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._ladder = LxLadder(
            daily_pct=p.daily_drawdown_pct / HUNDRED,
            weekly_reduce_pct=p.weekly_reduce_pct / HUNDRED,
            weekly_halt_pct=p.weekly_halt_pct / HUNDRED,
            reduced_factor=p.weekly_size_factor,
        )
        self._candidates: dict[str, tuple[str, Decimal]] = {}
        self._exiting: set[str] = set()
        self._bucket_of_entry: dict[str, int] = {}
        self._breakeven_done: set[tuple[str, int]] = set()

    @property
    def ladder(self) -> LxLadder:
        return self._ladder

    def select_universe(self, turnover_24h: Mapping[str, Decimal]) -> tuple[str, ...]:
        """The seed's universe rule: USDT symbols above the turnover floor, largest first."""
        floor = self.params.min_turnover_24h_usdt
        chosen = [(t, s) for s, t in turnover_24h.items() if s.endswith("USDT") and t > floor]
        return tuple(s for _, s in sorted(chosen, key=lambda ts: (-ts[0], ts[1])))

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        p = self.params
        return {
            "rsi": specs.rsi(p.rsi_period),
            "volatility": specs.returns_std(p.window, ddof=1),
            "spread": specs.bar_spread(),
            "price_change": specs.pct_change(p.window, "close"),
            "volume_change": specs.pct_change(p.window, "volume"),
            "pump": specs.open_close_change(p.pump_lookback),
        }

    def rule(self, ind: Row) -> str | None:
        """Which rule fires on this row (``rule_8``, ``rule_6``) or None; NaN never fires."""
        p = self.params
        if not ind["pump"] * 100 >= p.pump_threshold_pct:
            return None
        rsi, vol, spread_pct = ind["rsi"], ind["volatility"], ind["spread"] * 100
        score = (
            (rsi > p.score_rsi_min)
            + (ind["volume_change"] * 100 > p.score_volume_change_min_pct)
            + (spread_pct < p.score_spread_max_pct)
            + (vol > p.score_volatility_min)
            + (ind["price_change"] * 100 > p.score_price_change_min_pct)
        )
        if score >= p.rule8_min_score and spread_pct < p.rule8_max_spread_pct:
            return "rule_8"
        if rsi > p.rule6_rsi_min and vol > p.rule6_volatility_min:
            return "rule_6"
        return None

    def wake_bars(self, symbol: str, columns: Columns) -> WakeMask:
        """Flat: the pump-gate bars (no rule fires without the gate). Holding, or an order in
        flight: every bar (breakeven, the 8 h and 72 h exits read each close).

        The drawdown ladder reads equity in ``on_bars_closed``, which runs only at close times
        with some call. While any symbol is held it is called every bar, so the ladder sees every
        close; while nothing is held or in flight equity is cash, constant, and the ladder's
        update is idempotent at constant equity (period starts, latches and the weekly peak
        loss end the same whether it looks once or at every close), so the skipped closes
        change nothing a later look does not set the same way."""
        gate = (columns["pump"] * 100) >= self.params.pump_threshold_pct
        return np.asarray(gate, dtype=bool), None

    def on_start(self, ctx: StrategyContext) -> None:
        """Rebuild the 4-hour bucket of each held symbol's entry from the portfolio."""
        for symbol in ctx.portfolio.open_positions():
            position = ctx.portfolio.position(symbol)
            if position is not None:
                self._bucket_of_entry[symbol] = self._bucket(position.entry_time_ms)

    def _bucket(self, ms: int) -> int:
        return bucket_key(ms, self.params.bucket_hours, self.params.bucket_start_hour_utc)

    def on_bar(self, ctx: StrategyContext, bar: Bar, ind: Row) -> None:
        # the bar's symbol once (a generic attribute read on the compiled build), and the
        # position's entry without a whole ``position`` view (its Decimal unrealised PnL)
        symbol = bar.symbol
        held = entry_of(ctx.portfolio, symbol)
        if held is None:
            rule = self.rule(ind)
            if rule is not None:
                self._candidates[symbol] = (rule, to_decimal(float(bar.close)))
            return
        entry, entry_time_ms = held
        p = self.params
        close = to_decimal(float(bar.close))
        age = ctx.now_ms - floor_to(entry_time_ms, self.timeframe_min * MINUTE_MS)
        if age >= p.expiry_hours * HOUR_MS:
            self._exit(ctx, symbol, f"expiry_{p.expiry_hours}h")
        elif age >= p.negative_pnl_exit_hours * HOUR_MS and close < entry:
            self._exit(ctx, symbol, f"{p.negative_pnl_exit_hours}h_negative_pnl")
        else:
            key = (symbol, entry_time_ms)
            gain_pct = (close - entry) / entry * HUNDRED
            if gain_pct >= p.breakeven_pct and key not in self._breakeven_done:
                self._breakeven_done.add(key)
                ctx.set_stop(symbol, entry, "breakeven")

    def _exit(self, ctx: StrategyContext, symbol: str, reason: str) -> None:
        if symbol not in self._exiting and ctx.portfolio.position(symbol) is not None:
            self._exiting.add(symbol)
            ctx.exit(symbol, reason)

    def on_bars_closed(self, ctx: StrategyContext, close_time_ms: int) -> None:
        candidates, self._candidates = self._candidates, {}
        try:
            if self._ladder.update(close_time_ms, ctx.portfolio.equity):
                for symbol in ctx.portfolio.open_positions():
                    self._exit(ctx, symbol, "drawdown_protection")
            if candidates and self._ladder.entries_allowed:
                self._enter_candidates(ctx, candidates)
        finally:
            self._exiting.clear()

    def _enter_candidates(
        self, ctx: StrategyContext, candidates: dict[str, tuple[str, Decimal]]
    ) -> None:
        p = self.params
        active = len(ctx.portfolio.open_positions())
        bucket = self._bucket(ctx.now_ms)
        size = NotionalSize(usdt=p.position_usdt).scaled(self._ladder.size_factor)
        for symbol in sorted(candidates):
            if active >= p.max_active_trades:
                return
            if self._bucket_of_entry.get(symbol) == bucket:
                continue
            if ctx.portfolio.position(symbol) is not None:
                continue
            rule, ref = candidates[symbol]
            ctx.enter(
                symbol,
                Side.BUY,
                size,
                rule,
                ref_price=ref,
                stop_loss=ref * (1 - p.stop_loss_pct / HUNDRED),
                take_profits=(take_profit(ref * (1 + p.take_profit_pct / HUNDRED)),),
                trailing=trailing(
                    distance=ref * p.trailing_pct / HUNDRED,
                    activation_price=ref * (1 + p.trailing_activation_pct / HUNDRED),
                ),
            )
            self._bucket_of_entry[symbol] = bucket
            active += 1
