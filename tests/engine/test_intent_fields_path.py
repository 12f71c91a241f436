"""The context hands the router the values it built an intent from (``Router.enter_fields``,
``exit_fields``, the risk gate's ``size_entry_at``, ``size_exit_at`` and ``qty_for_notional``):
the same orders, refusals and book as routing the intent itself, and the instrument's own
answer or refusal for the quantity."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.engine.test_risk_and_state import BAR, BOT, BTC, ETH, T0, fill_at, make_engine

from alphadesk.domain.enums import Side
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.intents import (
    EnterIntent,
    EquityFraction,
    ExitIntent,
    NotionalSize,
    SizeHint,
    TakeProfitLevel,
)
from alphadesk.engine.risk import RiskLimits, qty_for_notional
from alphadesk.engine.runner import Engine

D = Decimal


def _outcome(call: Any, *args: object) -> object:
    try:
        return ("ok", call(*args))
    except Exception as exc:  # the refusal, by type and message
        return ("raised", type(exc), str(exc))


@pytest.mark.parametrize("instrument", [BTC, ETH, Instrument("X", D("0.5"), D(5), D(5))])
@pytest.mark.parametrize(
    ("notional", "price"),
    [
        (D("1234.56"), D("100000")),
        (D(0), D("3.25")),
        (D("60000.000000001"), D("60123.4")),
        (D("1E+3"), D("0.00017")),
        (D("99999999999999999999999999999.5"), D("7")),
        (D(-1), D(100)),
        (D(100), D(0)),
        (D(100), D(-2)),
        (D("NaN"), D(100)),
        (D(100), D("Infinity")),
        (100, D(100)),
        (D(100), 100.0),
    ],
)
def test_qty_for_notional_is_the_instruments(
    instrument: Instrument, notional: Decimal, price: Decimal
) -> None:
    ours = _outcome(qty_for_notional, instrument, notional, price)
    theirs = _outcome(instrument.qty_for_notional, notional, price)
    assert ours == theirs
    if ours[0] == "ok":
        assert str(ours[1]) == str(theirs[1])  # type: ignore[index]


def _state(engine: Engine) -> tuple[object, ...]:
    router = engine.router
    flights = [
        (
            link,
            f.request,
            f.purpose,
            f.reason,
            f.sent_ms,
            f.ref_price,
            f.follow_up,
            f.filled,
            f.unknown,
            f.qty,
        )
        for link, f in router.inflight.items()
    ]
    return (
        flights,
        list(engine.refusals),
        list(engine.intents),
        dict(router.reasons),
        dict(engine.risk._last_entry_ms),
        dict(engine.portfolio.positions),
    )


def _enter(
    engine: Engine, by_context: bool, t: int, size: SizeHint, side: Side = Side.BUY, **more: Any
) -> None:
    fields: dict[str, Any] = {"ref_price": D("100000"), **more}
    if by_context:
        engine.ctx.time_ms = t
        engine.ctx.enter("BTCUSDT", side, size, "in", **fields)
    else:
        engine.submit(
            EnterIntent(
                time_ms=t,
                bot_id=BOT,
                symbol="BTCUSDT",
                side=side,
                size=size,
                reason="in",
                **fields,
            )
        )


def _exit(engine: Engine, by_context: bool, t: int, fraction: Decimal | None = None) -> None:
    more = {} if fraction is None else {"fraction": fraction}
    if by_context:
        engine.ctx.time_ms = t
        engine.ctx.exit("BTCUSDT", "out", **more)
    else:
        engine.submit(ExitIntent(time_ms=t, bot_id=BOT, symbol="BTCUSDT", reason="out", **more))


def _script(engine: Engine, venue: Any, by_context: bool) -> list[tuple[object, ...]]:
    """Entries and exits of every kind, accepted and refused, with fills between."""
    states = []
    _exit(engine, by_context, T0)  # flat: refused
    _enter(engine, by_context, T0, NotionalSize(usdt=D(3)))  # below min qty: refused
    _enter(engine, by_context, T0 + 1, EquityFraction(fraction=D("0.3")), stop_loss=D("99000.07"))
    _enter(engine, by_context, T0 + 2, NotionalSize(usdt=D(1000)))  # in flight: refused
    states.append(_state(engine))
    fill_at(engine, venue, "BTCUSDT", 100000.0, 1)
    _enter(engine, by_context, T0 + 2 * BAR, NotionalSize(usdt=D(500)), side=Side.SELL)  # opposite
    _enter(engine, by_context, T0 + 2 * BAR, NotionalSize(usdt=D(500)))  # cooldown
    _exit(engine, by_context, T0 + 2 * BAR, D("0.5"))
    _exit(engine, by_context, T0 + 2 * BAR + 1)  # exit in flight: refused
    states.append(_state(engine))
    fill_at(engine, venue, "BTCUSDT", 100500.0, 3)
    _exit(engine, by_context, T0 + 4 * BAR, D("1.000"))  # equal to one, not the default
    states.append(_state(engine))
    fill_at(engine, venue, "BTCUSDT", 101000.0, 5)
    tp = (TakeProfitLevel(price=D("110000.04")),)
    _enter(engine, by_context, T0 + 6 * BAR + 3_600_000, NotionalSize(usdt=D(800)), take_profits=tp)
    states.append(_state(engine))
    fill_at(engine, venue, "BTCUSDT", 100000.0, 7 + 12)
    _exit(engine, by_context, T0 + 20 * BAR)
    fill_at(engine, venue, "BTCUSDT", 99000.0, 21)
    states.append(_state(engine))
    return states


def test_the_context_routes_as_submitting_the_intent_does() -> None:
    limits = RiskLimits(entry_cooldown_ms=3_600_000)
    by_intent, by_context = make_engine(limits=limits), make_engine(limits=limits)
    ours = _script(*by_context, by_context=True)
    theirs = _script(*by_intent, by_context=False)
    assert ours == theirs
    refused = [refusal.reason for refusal in by_context[0].refusals]
    assert len(refused) == 6 and by_context[0].fills  # every refusal above, and trades
    assert not by_context[0].portfolio.positions


@pytest.mark.parametrize("fraction", [D(1), D("1.0"), D("0.25"), D("0.0001")])
def test_size_exit_at_is_size_exit(fraction: Decimal) -> None:
    engine, venue = make_engine()
    _enter(engine, True, T0, NotionalSize(usdt=D(2000)))
    fill_at(engine, venue, "BTCUSDT", 100000.0, 1)
    intent = ExitIntent(time_ms=T0, bot_id=BOT, symbol="BTCUSDT", reason="x", fraction=fraction)
    ours = engine.risk.size_exit_at("BTCUSDT", T0, fraction)
    theirs = engine.risk.size_exit(intent)
    assert ours == theirs and str(ours) == str(theirs)
