"""Pure decoding of WebSocket pushes into typed events.

Public topics become :class:`KlineUpdate`, :class:`Ticker` and :class:`PublicTrade`; private ones
become :class:`Fill`, :class:`OrderUpdated`, :class:`PositionReported` and :class:`WalletReported`.
Only linear (USDT perpetual) rows are passed on from the private topics: a unified account also
reports spot and options there, which this desk does not trade. ``execution.fast`` is not decoded
into fills (it has no fee or exec type): subscribe to ``execution`` for the ledger.
"""

from __future__ import annotations

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.models import KlineUpdate, PublicTrade, Ticker
from alphadesk.adapters.bybit.parse import fill_from_execution, order_updated, position_reported
from alphadesk.adapters.bybit.parse import wallet_reported as wallet_event
from alphadesk.adapters.bybit.parse_market import (
    kline_update,
    merge_ticker,
    public_trade_from_ws,
    symbol_of_topic,
    ticker_from_info,
)
from alphadesk.adapters.bybit.wire import decode, utc_ms
from alphadesk.domain.events import OrderUpdated, PositionReported, WalletReported
from alphadesk.domain.fills import UNKNOWN_BOT, Fill

PublicEvent = KlineUpdate | Ticker | PublicTrade
PrivateEvent = Fill | OrderUpdated | PositionReported | WalletReported

_LINEAR = frozenset({"linear", ""})


class TickerBook:
    """The last full ticker per symbol, so that deltas can be applied."""

    def __init__(self) -> None:
        self._last: dict[str, w.TickerInfo] = {}

    def apply(self, info: w.TickerInfo, *, snapshot: bool) -> w.TickerInfo:
        merged = info if snapshot else merge_ticker(self._last.get(info.symbol), info)
        self._last[info.symbol] = merged
        return merged


def public_events(msg: w.WsMessage, tickers: TickerBook) -> list[PublicEvent]:
    topic = msg.topic
    if topic.startswith("kline."):
        symbol = symbol_of_topic(topic)
        klines = decode(msg.data, list[w.WsKline], topic)
        return [kline_update(k, symbol) for k in klines]
    if topic.startswith("tickers."):
        info = decode(msg.data, w.TickerInfo, topic)
        merged = tickers.apply(info, snapshot=msg.type != "delta")
        return [ticker_from_info(merged, at=utc_ms(f"{topic}.ts", msg.ts))]
    if topic.startswith(("publicTrade.", "trade.")):
        return [public_trade_from_ws(t) for t in decode(msg.data, list[w.WsPublicTrade], topic)]
    return []


def private_events(
    msg: w.WsMessage, account: str, *, default_bot: str = UNKNOWN_BOT
) -> list[PrivateEvent]:
    topic = msg.topic
    events: list[PrivateEvent] = []
    if topic == "execution":
        for e in decode(msg.data, list[w.ExecutionInfo], topic):
            if e.category in _LINEAR:
                events.append(fill_from_execution(e, account, default_bot=default_bot))
    elif topic == "order":
        for o in decode(msg.data, list[w.OrderInfo], topic):
            if o.category in _LINEAR:
                events.append(order_updated(o, account, default_bot=default_bot))
    elif topic == "position":
        at = utc_ms("position.creationTime", msg.creationTime)
        for p in decode(msg.data, list[w.PositionInfo], topic):
            if p.category in _LINEAR:
                events.append(position_reported(p, account, at=at))
    elif topic == "wallet":
        at = utc_ms("wallet.creationTime", msg.creationTime)
        events.extend(
            wallet_event(i, account, at=at) for i in decode(msg.data, list[w.WalletInfo], topic)
        )
    return events
