"""The Bybit client of one account: REST groups, streams and the start-up checks in one place.

``await BybitClient.connect(config)`` syncs the clock and, for a keyed account, refuses a key
that could move funds before anything else runs (invariant 6). Everything it returns is typed:
domain objects or :mod:`models`; nothing above the adapter sees a payload or a float price.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from alphadesk.adapters.bybit.account import Account
from alphadesk.adapters.bybit.config import AccountConfig
from alphadesk.adapters.bybit.history import History
from alphadesk.adapters.bybit.market import MarketData
from alphadesk.adapters.bybit.models import KeyPermissions
from alphadesk.adapters.bybit.rest import BybitRest, RestStats, RetryPolicy
from alphadesk.adapters.bybit.streams import PRIVATE_TOPICS, PrivateStream, PublicStream
from alphadesk.adapters.bybit.trading import Trading
from alphadesk.adapters.bybit.ws import ReconnectHook, WsSettings
from alphadesk.adapters.bybit.ws_decode import PrivateEvent, PublicEvent
from alphadesk.domain.fills import UNKNOWN_BOT


class BybitClient:
    def __init__(
        self,
        config: AccountConfig,
        *,
        policy: RetryPolicy | None = None,
        default_bot: str = UNKNOWN_BOT,
    ) -> None:
        self.config = config
        self.rest = BybitRest(config, policy=policy)
        self.market = MarketData(self.rest)
        self.trading = Trading(self.rest, default_bot=default_bot, market=self.market)
        self.history = History(self.rest, default_bot=default_bot)
        self.account = Account(self.rest)
        self.permissions: KeyPermissions | None = None
        self._default_bot = default_bot
        self._streams: list[PublicStream | PrivateStream] = []

    def __repr__(self) -> str:
        return f"BybitClient({self.rest!r})"

    @property
    def stats(self) -> RestStats:
        """Retries, rate-limit waits and skipped (unreadable) rows, REST and private stream."""
        return self.rest.stats

    @classmethod
    async def connect(
        cls,
        config: AccountConfig,
        *,
        trading: bool = True,
        policy: RetryPolicy | None = None,
        default_bot: str = UNKNOWN_BOT,
    ) -> BybitClient:
        """A ready client: clock synced, key checked (refused if it can move funds)."""
        client = cls(config, policy=policy, default_bot=default_bot)
        try:
            await client.start(trading=trading)
        except BaseException:
            await client.close()
            raise
        return client

    async def start(self, *, trading: bool = True) -> None:
        await self.rest.sync_clock()
        if self.config.has_credentials:
            self.permissions = await self.account.check_key(trading=trading)

    async def public_stream(
        self,
        topics: Sequence[str],
        on_event: Callable[[PublicEvent], Awaitable[None]],
        *,
        on_reconnect: ReconnectHook | None = None,
        settings: WsSettings | None = None,
        within_s: float = 10.0,
    ) -> PublicStream:
        stream = PublicStream(
            self.rest, topics, on_event, on_reconnect=on_reconnect, settings=settings
        )
        self._streams.append(stream)
        await stream.start(within_s)
        return stream

    async def private_stream(
        self,
        on_event: Callable[[PrivateEvent], Awaitable[None]],
        *,
        topics: Sequence[str] = PRIVATE_TOPICS,
        on_reconnect: ReconnectHook | None = None,
        settings: WsSettings | None = None,
        within_s: float = 10.0,
    ) -> PrivateStream:
        stream = PrivateStream(
            self.rest,
            on_event,
            topics=topics,
            on_reconnect=on_reconnect,
            settings=settings,
            default_bot=self._default_bot,
        )
        self._streams.append(stream)
        await stream.start(within_s)
        return stream

    async def close(self) -> None:
        for stream in self._streams:
            await stream.close()
        self._streams.clear()
        await self.rest.close()

    async def __aenter__(self) -> BybitClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
