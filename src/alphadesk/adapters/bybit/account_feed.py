"""One trading account as the listener reads it: its private stream, its gap-filler, its health.

Each account's private stream (``execution``, ``order``, ``position``, ``wallet``:
:class:`~alphadesk.adapters.bybit.streams.PrivateStream`, decoding with
:func:`~alphadesk.adapters.bybit.streams.decode_private_frame`) hands over one frame at a time; its
events go to the :class:`~alphadesk.engine.inbox.Inbox`, which writes frames into the
:class:`~alphadesk.engine.ingest.Ingest` in batches. A frame is decoded row by row, so a malformed
row is logged and counted while the rows around it are still recorded, and (with a dead-letter
box) set aside there once with its raw JSON and reason, and an alert. After the socket is first
ready, and again after every reconnect (the stream's hook), the account's
:class:`~alphadesk.engine.gapfill.GapFiller` asks the REST history for what the socket missed.
The socket is started *before* the start-up gap-fill, so nothing falls between the two.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from alphadesk.adapters.bybit.account import Account
from alphadesk.adapters.bybit.config import AccountConfig
from alphadesk.adapters.bybit.history import History
from alphadesk.adapters.bybit.items import SkippedItem
from alphadesk.adapters.bybit.parse import VENUE
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.bybit.streams import PrivateStream
from alphadesk.adapters.bybit.trading import Trading
from alphadesk.adapters.bybit.ws import WsSettings
from alphadesk.adapters.bybit.ws_decode import PrivateEvent
from alphadesk.domain.fills import UNKNOWN_BOT, Fill
from alphadesk.engine.dead_letters import DeadLetterBox
from alphadesk.engine.gapfill import GapFiller, Watermarks
from alphadesk.engine.health import HealthBook
from alphadesk.engine.inbox import Inbox
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.state_ports import SpoolFull

log = logging.getLogger("alphadesk.listener")  # the listener process's log


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """One venue account (one API key) and the bots that trade on it.

    ``default_bot`` is who an order the desk did not tag belongs to: the bot when the key is one
    bot's alone, ``unknown`` when bots share it (they are told apart by ``orderLinkId``).
    """

    config: AccountConfig
    bots: tuple[str, ...]

    @property
    def account(self) -> str:
        return self.config.account

    @property
    def default_bot(self) -> str:
        return self.bots[0] if len(self.bots) == 1 else UNKNOWN_BOT


def account_bots(specs: Sequence[AccountSpec]) -> dict[tuple[str, str], tuple[str, ...]]:
    """What :class:`Ingest` needs to sum an account's bots when checking a venue snapshot."""
    return {(VENUE, spec.account): spec.bots for spec in specs}


class AccountFeed:
    """One account: its private socket, its gap-filler, and whether it owes a gap-fill."""

    def __init__(
        self,
        spec: AccountSpec,
        ingest: Ingest,
        health: HealthBook,
        *,
        inbox: Inbox,
        venue_clock: Callable[[], datetime],
        ws_settings: WsSettings | None,
        history_start: datetime | None,
        watermarks: Watermarks | None = None,
        dead_letters: DeadLetterBox | None = None,
    ) -> None:
        self.spec = spec
        self.dead_letters = dead_letters
        self._rest_skipped: list[SkippedItem] = []
        self.inbox = inbox
        self.ingest = ingest
        self.health = health
        self.rest = BybitRest(spec.config)
        self.trading = Trading(self.rest, default_bot=spec.default_bot)
        history = History(self.rest, default_bot=spec.default_bot,
                          on_skipped=self._rest_skipped.extend)
        self.gapfill = GapFiller(ingest, VENUE, spec.account, history, clock=venue_clock,
                                 watermarks=watermarks)
        if history_start is not None:
            self.gapfill.lookback = venue_clock() - history_start
        self.owes_gapfill = False
        self.stream = PrivateStream(
            self.rest,
            on_frame=self._frame,
            on_reconnect=self.run_gapfill,
            settings=ws_settings,
            default_bot=spec.default_bot,
            name=f"listener-{spec.account}",
        )
        self.session = self.stream.session

    async def start(self, within_s: float) -> None:
        await self.rest.sync_clock()
        await Account(self.rest).check_key(trading=False)  # invariant 6: no withdraw keys
        self.session.start()
        try:
            await self.session.wait_ready(within_s)
        except TimeoutError:
            # Not a refusal (those raise the session's failure): the session keeps trying, and
            # housekeeping runs the gap-fill once it is ready, since no reconnect hook will.
            self.owes_gapfill = True
            log.warning("%s: socket not ready after %s s; still trying", self.spec.account,
                        within_s)
            return
        self.health.connected(self.spec.account, True)
        await self.run_gapfill()

    async def _frame(self, events: list[PrivateEvent], skipped: list[SkippedItem]) -> None:
        account = self.spec.account
        for item in skipped:
            self.ingest.note_malformed(account, f"{item.where} {item.item_id}: {item.reason}")
        await self._set_aside(skipped, "ws")
        newest = max((e.exec_time for e in events if isinstance(e, Fill)), default=None)
        self.health.message(account, newest)
        if events:
            await self.inbox.put(self, events)

    async def _set_aside(self, skipped: list[SkippedItem], via: str) -> None:
        """Rows that could not be read go to the dead-letter store (once each, with an alert);
        a row with no raw text (an unknown topic) is only counted and logged."""
        rows = [item for item in skipped if item.raw]
        if self.dead_letters is None or not rows:
            return
        where = {"/v5/execution/list": "execution"}
        await self.dead_letters.put([
            self.dead_letters.letter(f"{via}:{where.get(item.where, item.where)}", item.reason,
                                     item.raw, venue=VENUE, account=self.spec.account)
            for item in rows
        ])  # fmt: skip

    async def run_gapfill(self) -> None:
        self.health.connected(self.spec.account, self.session.ready)
        try:
            await self.gapfill.run()
        except SpoolFull as exc:
            self.owes_gapfill = True
            self.health.gap_fill_failed(self.spec.account, f"spool full: {exc}")
            log.error("%s: gap-fill refused: %s", self.spec.account, exc)
            return
        except Exception as exc:
            self.owes_gapfill = True
            self.health.gap_fill_failed(self.spec.account, f"{type(exc).__name__}: {exc}")
            log.error("%s: gap-fill failed, will retry: %s: %s", self.spec.account,
                      type(exc).__name__, exc)
            return
        finally:
            skipped, self._rest_skipped[:] = list(self._rest_skipped), []
            await self._set_aside(skipped, "rest")
        self.owes_gapfill = False
        self.health.gap_filled(self.spec.account, await self._newest())
        await self._check_positions()

    async def _check_positions(self) -> None:
        """With the ledger level again, the venue's own list of positions is checked against it
        (position pushes lost with a dropped socket left no newer snapshot to check)."""
        try:
            listed = await self.trading.positions()
        except Exception as exc:  # unknown, not flat: earlier suspects stay as they are
            log.warning("%s: positions not read after the gap-fill: %s: %s", self.spec.account,
                        type(exc).__name__, exc)
            return
        await self.ingest.venue_positions(VENUE, self.spec.account, listed)

    async def _newest(self) -> datetime | None:
        with contextlib.suppress(Exception):
            return await self.ingest.writer.last_exec_time(VENUE, self.spec.account)
        return None

    async def close(self) -> None:
        await self.session.close()
        await self.rest.close()
