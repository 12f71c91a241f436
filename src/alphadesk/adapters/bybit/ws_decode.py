"""Pure decoding of WebSocket pushes into typed events.

Public topics become :class:`KlineUpdate`, :class:`Ticker` and :class:`PublicTrade`; private ones
become :class:`Fill`, :class:`OrderUpdated`, :class:`PositionReported` and :class:`WalletReported`.
Only linear (USDT perpetual) rows are passed on from the private topics: a unified account also
reports spot and options there, which this desk does not trade. ``execution.fast`` is not decoded
into fills (it has no fee or exec type): subscribe to ``execution`` for the ledger. Private rows
are read one at a time (:mod:`items`): an execution Bybit invents a new ``execType`` for must not
cost the fills that arrived in the same frame.
"""

from __future__ import annotations

from datetime import datetime

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.items import SkippedItem, each_raw_row
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


def _position_key(p: w.PositionInfo) -> tuple[str, str, int]:
    return p.category, p.symbol, p.positionIdx


def _wallet_key(i: w.WalletInfo) -> str:
    return i.accountType


def private_events(
    msg: w.WsMessage,
    account: str,
    *,
    default_bot: str = UNKNOWN_BOT,
    skipped: list[SkippedItem] | None = None,
    now: datetime | None = None,
) -> list[PrivateEvent]:
    """The frame's events, row by row: a row that cannot be read (for any reason: a refused
    value, an overflow) is appended to ``skipped`` (when given) with its raw JSON, and the other
    rows of the frame are still delivered. ``now``: the venue's clock, bounding execution times."""
    topic = msg.topic
    bad: list[SkippedItem] = [] if skipped is None else skipped
    events: list[PrivateEvent]
    if topic == "execution":

        def fill(e: w.ExecutionInfo) -> Fill | None:
            if e.category not in _LINEAR:
                return None
            return fill_from_execution(e, account, default_bot=default_bot, now=now)

        events = list(each_raw_row(msg.data, w.ExecutionInfo, topic, fill, bad))
    elif topic == "order":

        def order(o: w.OrderInfo) -> OrderUpdated | None:
            if o.category not in _LINEAR:
                return None
            return order_updated(o, account, default_bot=default_bot)

        events = list(each_raw_row(msg.data, w.OrderInfo, topic, order, bad))
    elif topic == "position":
        at = utc_ms("position.creationTime", msg.creationTime)

        def position(p: w.PositionInfo) -> PositionReported | None:
            return position_reported(p, account, at=at) if p.category in _LINEAR else None

        events = list(
            each_raw_row(msg.data, w.PositionInfo, topic, position, bad, newest_by=_position_key)
        )
    elif topic == "wallet":
        at = utc_ms("wallet.creationTime", msg.creationTime)

        def wallet(i: w.WalletInfo) -> WalletReported:
            return wallet_event(i, account, at=at)

        events = list(
            each_raw_row(msg.data, w.WalletInfo, topic, wallet, bad, newest_by=_wallet_key)
        )
    else:
        events = []
    return events
