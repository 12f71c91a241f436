"""Risk sizing, limits, the kill switch and in-flight tracking, on the real matching engine."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphadesk.adapters.sim.config import SimConfig
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.backtest.venue import BacktestVenue
from alphadesk.domain import checks
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.intents import (
    EnterIntent,
    EquityFraction,
    ExitIntent,
    NotionalSize,
    RiskFraction,
    SizeHint,
    TakeProfitLevel,
    TrailingSpec,
)
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest
from alphadesk.engine.risk import Exposure, Refusal, RiskLimits
from alphadesk.engine.runner import Engine
from alphadesk.engine.trading_state import KillSwitchLimits, MemoryStateStore, TradingState
from alphadesk.strategies.ema_cross import EmaCross

D = Decimal
BOT = "ema_cross_t"
BTC = Instrument("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("5"))
ETH = Instrument("ETHUSDT", D("0.01"), D("0.01"), D("0.01"), D("5"))
T0 = 1_758_672_000_000  # 2025-09-24 00:00 UTC, a funding boundary
BAR = 300_000


def make_engine(
    *,
    limits: RiskLimits | None = None,
    kill: KillSwitchLimits | None = None,
    store: MemoryStateStore | None = None,
    cash: str = "10000",
) -> tuple[Engine, BacktestVenue]:
    sim = MatchingEngine(
        "backtest", [BTC, ETH], config=SimConfig(taker_fee=D(0), funding_rate=D(0))
    )
    sim.open_account(BOT, D(cash))
    venue = BacktestVenue(sim, BOT)
    engine = Engine(
        EmaCross(),
        bot_id=BOT,
        instruments={"BTCUSDT": BTC, "ETHUSDT": ETH},
        gateway=venue,
        initial_cash=D(cash),
        limits=limits,
        kill_limits=kill,
        state_store=store,
    )
    venue.engine = engine
    return engine, venue


def enter(
    size: SizeHint,
    *,
    symbol: str = "BTCUSDT",
    price: str = "100000",
    t: int = T0,
    side: Side = Side.BUY,
) -> EnterIntent:
    return EnterIntent(
        time_ms=t,
        bot_id=BOT,
        symbol=symbol,
        side=side,
        size=size,
        reason="test",
        ref_price=D(price),
    )


def fill_at(engine: Engine, venue: BacktestVenue, symbol: str, price: float, k: int) -> None:
    """The next bar opens at ``price`` (queued orders fill there) and closes flat."""
    venue.open(symbol, price, T0 + k * BAR)
    venue.walk(symbol, price, price, price, price, T0 + k * BAR, T0 + (k + 1) * BAR)
    engine.portfolio.mark(symbol, price)


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (NotionalSize(usdt=D("1234.56")), D("0.012")),  # 0.0123456 floored to 0.001
        (EquityFraction(fraction=D("0.07"), leverage=D(10)), D("0.070")),  # 7000 / 100000
        (EquityFraction(fraction=D("0.3333")), D("0.033")),  # 3333 / 100000 = 0.03333
        # min(10000 * 0.05 / 0.10, 10000 * 0.20) = 2000 -> 0.02
        (
            RiskFraction(risk=D("0.05"), stop_distance_pct=D("0.10"), cap_fraction=D("0.20")),
            D("0.02"),
        ),
        # min(10000 * 0.01 / 0.10 = 1000, 2000) -> 0.01
        (
            RiskFraction(risk=D("0.01"), stop_distance_pct=D("0.10"), cap_fraction=D("0.20")),
            D("0.01"),
        ),
    ],
)
def test_sizing_each_hint_floors_to_the_qty_step(hint: SizeHint, expected: Decimal) -> None:
    engine, _ = make_engine()
    qty = engine.risk.size_entry(enter(hint), Exposure(0, D(0)))
    assert qty == expected
    assert isinstance(qty, Decimal)
    asked = hint.usdt if isinstance(hint, NotionalSize) else None
    if asked is not None:
        assert qty * D(100000) <= asked


def test_sizing_below_min_qty_is_refused_not_rounded_up() -> None:
    engine, _ = make_engine()
    got = engine.risk.size_entry(enter(NotionalSize(usdt=D(50))), Exposure(0, D(0)))
    assert isinstance(got, Refusal)
    assert "min_qty" in got.reason


def test_max_position_notional_caps_and_total_notional_refuses() -> None:
    engine, _ = make_engine(
        limits=RiskLimits(max_position_notional=D(1500), max_total_notional=D(3000))
    )
    assert engine.risk.size_entry(enter(NotionalSize(usdt=D(5000))), Exposure(0, D(0))) == D(
        "0.015"
    )
    got = engine.risk.size_entry(enter(NotionalSize(usdt=D(1000))), Exposure(1, D(2500)))
    assert isinstance(got, Refusal) and "total notional" in got.reason


def test_leverage_and_open_positions_limits_refuse() -> None:
    engine, _ = make_engine(limits=RiskLimits(max_leverage=D(2), max_open_positions=1))
    lev = engine.risk.size_entry(
        enter(EquityFraction(fraction=D(1), leverage=D(3))), Exposure(0, D(0))
    )
    assert isinstance(lev, Refusal) and "leverage" in lev.reason
    full = engine.risk.size_entry(enter(NotionalSize(usdt=D(100))), Exposure(1, D(100)))
    assert isinstance(full, Refusal) and "max open positions" in full.reason


def test_cooldown_between_entries_on_a_symbol() -> None:
    engine, venue = make_engine(limits=RiskLimits(entry_cooldown_ms=3_600_000))
    engine.submit(enter(NotionalSize(usdt=D(1000))))
    fill_at(engine, venue, "BTCUSDT", 100000.0, 1)
    engine.submit(ExitIntent(time_ms=T0 + 2 * BAR, bot_id=BOT, symbol="BTCUSDT", reason="x"))
    fill_at(engine, venue, "BTCUSDT", 100000.0, 3)
    engine.submit(enter(NotionalSize(usdt=D(1000)), t=T0 + 4 * BAR))
    assert engine.refusals[-1].reason.startswith("cooldown")
    engine.submit(enter(NotionalSize(usdt=D(1000)), t=T0 + 3_600_000))
    assert len(engine.refusals) == 1
    assert engine.router.in_flight("BTCUSDT")


def test_router_sends_rounded_orders_and_fills_update_the_portfolio() -> None:
    engine, venue = make_engine()
    intent = EnterIntent(
        time_ms=T0,
        bot_id=BOT,
        symbol="BTCUSDT",
        side=Side.SELL,
        size=NotionalSize(usdt=D(2000)),
        reason="short",
        ref_price=D("100000"),
        stop_loss=D("101000.04"),
    )
    request = engine.router.route(intent)
    assert isinstance(request, OrderRequest)
    assert (request.qty, request.side, request.stop_loss) == (D("0.02"), Side.SELL, D("101000.0"))
    assert request.order_link_id.startswith(f"{BOT}-e-") and len(request.order_link_id) <= 36
    assert engine.router.in_flight("BTCUSDT")
    fill_at(engine, venue, "BTCUSDT", 100000.0, 1)
    assert not engine.router.inflight
    view = engine.portfolio.position("BTCUSDT")
    assert view is not None and view.side is Side.SELL and view.size == D("0.02")
    assert engine.fills[0].close_reason == "short"


def test_opposite_entry_refused_while_position_open() -> None:
    engine, venue = make_engine()
    engine.submit(enter(NotionalSize(usdt=D(1000))))
    fill_at(engine, venue, "BTCUSDT", 100000.0, 1)
    engine.submit(enter(NotionalSize(usdt=D(1000)), side=Side.SELL, t=T0 + 2 * BAR))
    assert engine.refusals[-1].reason == "opposite position open"


class LostAckVenue:
    """The venue takes the order but the acknowledgement is lost (a timeout).

    It wraps the backtest venue rather than subclassing it: the mypyc build compiles
    BacktestVenue, and an interpreted subclass of a compiled class is refused at import."""

    def __init__(self, venue: BacktestVenue) -> None:
        self.venue = venue

    def submit(self, request: OrderRequest) -> None:
        self.venue.submit(request)
        raise TimeoutError("no answer within 10 s")

    def cancel(self, request: CancelRequest) -> None:
        self.venue.cancel(request)

    def set_trading_stop(self, request: TradingStopRequest) -> None:
        self.venue.set_trading_stop(request)


def test_unknown_outcome_stays_in_flight_until_the_venue_reports() -> None:
    sim = MatchingEngine("backtest", [BTC], config=SimConfig(funding_rate=D(0)))
    sim.open_account(BOT, D(10000))
    venue = BacktestVenue(sim, BOT)
    engine = Engine(
        EmaCross(),
        bot_id=BOT,
        instruments={"BTCUSDT": BTC},
        gateway=LostAckVenue(venue),
        initial_cash=D(10000),
    )
    venue.engine = engine
    engine.submit(enter(NotionalSize(usdt=D(1000))))
    (flight,) = engine.router.inflight.values()
    assert flight.unknown
    engine.submit(enter(NotionalSize(usdt=D(1000)), t=T0 + BAR))
    assert engine.refusals[-1].reason == "entry already in flight"
    assert engine.router.exposure().open_positions == 1
    fill_at(engine, venue, "BTCUSDT", 100000.0, 2)
    assert not engine.router.inflight
    assert engine.portfolio.positions["BTCUSDT"].qty == D("0.01")


def test_kill_switch_counts_unrealised_pnl_and_survives_restart() -> None:
    store = MemoryStateStore()
    kill = KillSwitchLimits(reduce_at=D("0.10"), halt_at=D("0.20"))
    engine, venue = make_engine(kill=kill, store=store)
    engine.submit(enter(EquityFraction(fraction=D(1), leverage=D(5))))  # 0.5 BTC
    fill_at(engine, venue, "BTCUSDT", 100000.0, 1)
    assert engine.observe_equity(T0 + 2 * BAR) is TradingState.ACTIVE
    engine.portfolio.mark("BTCUSDT", 97_000.0)  # unrealised -1500: 15 % down
    assert engine.observe_equity(T0 + 3 * BAR) is TradingState.REDUCING
    engine.submit(enter(NotionalSize(usdt=D(1000)), symbol="ETHUSDT", price="4000", t=T0 + 3 * BAR))
    assert "REDUCING" in engine.refusals[-1].reason
    engine.portfolio.mark("BTCUSDT", 95_000.0)  # -2500: 25 %
    assert engine.observe_equity(T0 + 4 * BAR) is TradingState.HALTED
    # Restart: a new engine on the same store comes back HALTED.
    again, _venue2 = make_engine(kill=kill, store=store)
    assert again.risk.state is TradingState.HALTED
    assert again.portfolio.state is TradingState.HALTED
    # HALTED: a strategy's exit is refused, an owner's explicit exit goes through.
    engine.submit(ExitIntent(time_ms=T0 + 5 * BAR, bot_id=BOT, symbol="BTCUSDT", reason="x"))
    assert "HALTED" in engine.refusals[-1].reason
    assert isinstance(engine.command_exit("BTCUSDT", T0 + 5 * BAR), OrderRequest)
    fill_at(engine, venue, "BTCUSDT", 95000.0, 6)
    assert not engine.portfolio.positions
    engine.command_state(TradingState.ACTIVE, T0 + 7 * BAR, "owner resumed")
    assert make_engine(kill=kill, store=store)[0].risk.state is TradingState.ACTIVE


def test_desk_switch_halts_every_bot() -> None:
    from alphadesk.engine.trading_state import KillSwitch

    store = MemoryStateStore()
    desk = KillSwitch("desk", store, KillSwitchLimits(halt_at=D("0.5")))
    desk.command(TradingState.HALTED, T0, "owner halted the desk")
    sim = MatchingEngine("backtest", [BTC])
    sim.open_account(BOT, D(10000))
    venue = BacktestVenue(sim, BOT)
    engine = Engine(
        EmaCross(),
        bot_id=BOT,
        instruments={"BTCUSDT": BTC},
        gateway=venue,
        initial_cash=D(10000),
        state_store=store,
        desk_switch=desk,
    )
    assert engine.risk.state is TradingState.HALTED
    assert KillSwitch("desk", store).state is TradingState.HALTED


@pytest.mark.parametrize(
    ("symbol", "reason", "field"),
    [
        ("BTCUSDT", "cross\x00", "reason"),  # NUL: refused by checks.text, not by length
        ("B" * 21, "cross", "symbol"),
        ("", "cross", "symbol"),
        ("BTCUSDT", "r" * 51, "reason"),
        ("BTC\x00USDT", "cross", "symbol"),
    ],
)
def test_the_context_checks_what_its_shortcut_does_not_vouch_for(
    symbol: str, reason: str, field: str
) -> None:
    """EngineContext.enter/exit skip the intents' checks only for plainly valid values
    (checks.plain_intent_fields); anything else is refused naming the field, as the
    intent's own constructor would, and nothing reaches the router."""
    engine, _ = make_engine()
    engine.ctx.time_ms = T0
    size = NotionalSize(usdt=D(100))
    with pytest.raises(InvalidField) as entering:
        engine.ctx.enter(symbol, Side.BUY, size, reason, ref_price=D(100_000))
    assert entering.value.field == f"enter.{field}"
    with pytest.raises(InvalidField) as leaving:
        engine.ctx.exit(symbol, reason)
    assert leaving.value.field == f"exit.{field}"
    assert engine.intents == [] and not engine.router.inflight


_TP = TakeProfitLevel(price=D(90_000))


@pytest.mark.parametrize(
    ("protection", "field"),
    [
        ({"stop_loss": D(-1)}, "stop_loss"),
        ({"stop_loss": D(0)}, "stop_loss"),
        ({"stop_loss": D("NaN")}, "stop_loss"),
        ({"stop_loss": D("Infinity")}, "stop_loss"),
        (  # one level is vouched for by its own constructor; two are summed by the intent
            {
                "take_profits": (
                    TakeProfitLevel(price=D(90_000), fraction=D("0.6")),
                    TakeProfitLevel(price=D(80_000), fraction=D("0.6")),
                )
            },
            "take_profits",
        ),
        ({"take_profits": ("90000",)}, "take_profits"),
        ({"take_profits": (_TP, "80000")}, "take_profits"),
    ],
)
def test_the_context_checks_protection_its_shortcut_does_not_vouch_for(
    protection: dict[str, object], field: str
) -> None:
    """EngineContext.enter skips EnterIntent's checks for a plain stop, one take-profit level
    and a trailing spec; anything else still meets them, refused naming the field."""
    engine, _ = make_engine()
    engine.ctx.time_ms = T0
    with pytest.raises(InvalidField) as entering:
        engine.ctx.enter(
            "BTCUSDT", Side.SELL, EquityFraction(fraction=D("0.1")), "x", ref_price=D(100_000),
            **protection,  # type: ignore[arg-type]
        )  # fmt: skip
    assert entering.value.field == f"enter.{field}"
    assert engine.intents == [] and not engine.router.inflight


def test_the_context_makes_the_intent_the_constructor_makes_with_protection() -> None:
    """The shortcut's intent (stop, one take-profit, trailing) equals the checked constructor's."""
    engine, _ = make_engine()
    engine.ctx.time_ms = T0
    trailing = TrailingSpec(distance=D(500), activation_price=D(95_000))
    made = engine.ctx.enter(
        "BTCUSDT", Side.SELL, EquityFraction(fraction=D("0.1")), "x", ref_price=D(100_000),
        stop_loss=D(105_000), take_profits=(_TP,), trailing=trailing,
    )  # fmt: skip
    assert made == EnterIntent(
        time_ms=T0, bot_id=BOT, symbol="BTCUSDT", side=Side.SELL,
        size=EquityFraction(fraction=D("0.1")), reason="x", ref_price=D(100_000),
        stop_loss=D(105_000), take_profits=(_TP,), trailing=trailing,
    )  # fmt: skip
    assert engine.intents == [made]


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        (D(0), True),
        (D("0.5"), True),
        (D(-1), False),
        (D("NaN"), False),
        (D("-Infinity"), False),
        (D("Infinity"), False),
        (1, False),
        (0.5, False),
    ],
)
def test_plain_non_negative_vouches_only_for_what_the_check_accepts(
    value: object, plain: bool
) -> None:
    """The shortcut the router takes for a trading-stop request: True only where
    checks.non_negative passes; a value it does not vouch for meets the request's own check,
    refused naming the field."""
    assert checks.plain_non_negative(value) is plain
    if plain:
        assert checks.non_negative("x", value) is value
    else:
        with pytest.raises(InvalidField) as refused:
            TradingStopRequest(BOT, "BTCUSDT", trailing_stop=value)  # type: ignore[arg-type]
        assert refused.value.field == "trading_stop.trailing_stop"


@pytest.mark.parametrize("activation", [None, D("95000.04")])
def test_the_routers_trailing_request_is_the_constructors(activation: Decimal | None) -> None:
    """Written slot by slot, the request equals (and is typed as) the checked constructor's."""
    engine, _ = make_engine()
    made = engine.router._trailing_request("BTCUSDT", D("123.456"), activation)
    assert type(made) is TradingStopRequest
    assert made == TradingStopRequest(
        BOT,
        "BTCUSDT",
        trailing_stop=BTC.round_price(D("123.456")),
        active_price=None if activation is None else BTC.round_price(activation),
    )
