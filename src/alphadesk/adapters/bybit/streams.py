"""Typed WebSocket streams: public market data and the account's private topics.

A stream wraps one :class:`WsSession` and hands the caller domain objects, never frames: the
public stream delivers :class:`KlineUpdate`/:class:`Ticker`/:class:`PublicTrade`, the private one
:class:`Fill`/:class:`OrderUpdated`/:class:`PositionReported`/:class:`WalletReported`, one event at
a time (``on_event``, a bot) or one decoded frame at a time with the rows it left out
(``on_frame``, the listener, which writes frames in batches and sets bad rows aside). The
``on_reconnect`` hook (the listener's REST gap-fill) runs after every reconnect, once the
subscriptions are back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.config import mask_key
from alphadesk.adapters.bybit.items import SkippedItem, raw_text
from alphadesk.adapters.bybit.parse_market import interval_code
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.bybit.ws import ReconnectHook, WsCredentials, WsSession, WsSettings
from alphadesk.adapters.bybit.ws_decode import (
    PrivateEvent,
    PublicEvent,
    TickerBook,
    private_events,
    public_events,
)
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import UNKNOWN_BOT

PRIVATE_TOPICS = ("execution", "order", "position", "wallet")

#: A decoded private frame: its events, and the rows left out (each with its raw JSON and reason).
PrivateFrameHandler = Callable[[list[PrivateEvent], list[SkippedItem]], Awaitable[None]]


def decode_private_frame(
    msg: w.WsMessage,
    account: str,
    *,
    default_bot: str = UNKNOWN_BOT,
    now: datetime | None = None,
) -> tuple[list[PrivateEvent], list[SkippedItem]]:
    """A private frame's events, row by row (:func:`private_events`), and the rows left out.

    Nothing is raised: an unknown topic is one skipped item without raw text, and a frame that
    fails as a whole (not one of its rows) is one skipped item holding its data, so the caller
    can count, log and set aside every failure the same way.
    """
    if msg.topic not in PRIVATE_TOPICS:
        return [], [SkippedItem(msg.topic, "?", f"unknown topic {msg.topic!r}")]
    skipped: list[SkippedItem] = []
    try:
        events = private_events(msg, account, default_bot=default_bot, skipped=skipped, now=now)
    except Exception as exc:  # the frame itself (not a row) is bad: any error is its own
        reason = str(exc) if isinstance(exc, InvalidField) else f"{type(exc).__name__}: {exc}"
        return [], [SkippedItem(msg.topic, "?", reason, raw_text(msg.data))]
    return events, skipped


def public_topics(
    symbols: Sequence[str],
    *,
    kline_interval_min: int | None = 5,
    tickers: bool = True,
    trades: bool = False,
) -> list[str]:
    topics: list[str] = []
    for symbol in symbols:
        if kline_interval_min is not None:
            topics.append(f"kline.{interval_code(kline_interval_min)}.{symbol}")
        if tickers:
            topics.append(f"tickers.{symbol}")
        if trades:
            topics.append(f"publicTrade.{symbol}")
    return topics


class PublicStream:
    def __init__(
        self,
        rest: BybitRest,
        topics: Sequence[str],
        on_event: Callable[[PublicEvent], Awaitable[None]],
        *,
        on_reconnect: ReconnectHook | None = None,
        settings: WsSettings | None = None,
    ) -> None:
        self._on_event = on_event
        self._tickers = TickerBook()
        self.session = WsSession(
            rest.endpoints.public_ws,
            topics,
            self._frame,
            name=f"bybit-public-{rest.config.account}",
            clock=rest.clock,
            on_reconnect=on_reconnect,
            settings=settings,
        )

    async def _frame(self, msg: w.WsMessage) -> None:
        for event in public_events(msg, self._tickers):
            await self._on_event(event)

    async def start(self, within_s: float = 10.0) -> None:
        self.session.start()
        await self.session.wait_ready(within_s)

    async def close(self) -> None:
        await self.session.close()


class PrivateStream:
    """One account's private socket. Give exactly one of ``on_event`` (each event; unreadable
    rows are counted in ``rest.stats`` and logged) or ``on_frame`` (each frame's events and
    skipped rows, from :func:`decode_private_frame`; the handler deals with the skipped)."""

    def __init__(
        self,
        rest: BybitRest,
        on_event: Callable[[PrivateEvent], Awaitable[None]] | None = None,
        *,
        on_frame: PrivateFrameHandler | None = None,
        topics: Sequence[str] = PRIVATE_TOPICS,
        on_reconnect: ReconnectHook | None = None,
        settings: WsSettings | None = None,
        default_bot: str = UNKNOWN_BOT,
        name: str | None = None,
    ) -> None:
        config = rest.config
        if not config.has_credentials:
            raise InvalidField(
                "bybit.api_key", mask_key(config.api_key), "the private stream needs a key"
            )
        if (on_event is None) == (on_frame is None):
            raise ValueError("PrivateStream: give exactly one of on_event and on_frame")
        self._on_event = on_event
        self._on_frame = on_frame
        self._account = config.account
        self._default_bot = default_bot
        self._stats = rest.stats
        self._clock = rest.clock
        self.session = WsSession(
            rest.endpoints.private_ws,
            topics,
            self._frame,
            name=name or f"bybit-private-{config.account}",
            credentials=WsCredentials(config.api_key, config.secret),
            clock=rest.clock,
            on_reconnect=on_reconnect,
            settings=settings,
        )

    async def _frame(self, msg: w.WsMessage) -> None:
        now = from_epoch_ms("clock", self._clock.now_ms())
        if self._on_frame is not None:
            events, bad = decode_private_frame(
                msg, self._account, default_bot=self._default_bot, now=now
            )
            await self._on_frame(events, bad)
            return
        assert self._on_event is not None  # one of the two, checked when built
        skipped: list[SkippedItem] = []
        events = private_events(
            msg, self._account, default_bot=self._default_bot, skipped=skipped, now=now
        )
        self._stats.note_skipped(skipped)
        for event in events:
            await self._on_event(event)

    async def start(self, within_s: float = 10.0) -> None:
        self.session.start()
        await self.session.wait_ready(within_s)

    async def close(self) -> None:
        await self.session.close()
