"""Setting rows aside: each row that cannot be recorded goes to the dead-letter store once, with
an alert, and costs nothing else.

The same row comes back (a gap-fill's overlap fetches a window again; a position that Bybit keeps
pushing keeps its odd symbol), so a letter is kept once per (source, venue, account, row id,
reason): the row id is read from the raw row as the adapters name rows (``execId``, ``orderId``,
``symbol``, ``accountType``). Those seen are read back from the store at start-up, so a restart
does not repeat them either. A store that fails (a full disk) is logged and never stops the
caller: the rows around the bad one still go on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from alphadesk.domain.alerts import Alert
from alphadesk.domain.dead_letters import DeadLetter
from alphadesk.engine.alerting import AlertSink, raise_alert
from alphadesk.engine.clock import utc_now
from alphadesk.engine.state_ports import DeadLetterStore

log = logging.getLogger(__name__)

_ID_FIELDS = ("execId", "orderId", "symbol", "accountType")
_MESSAGE_MAX = 2000

LetterKey = tuple[str, str, str, str, str]


def row_id(raw: str) -> str:
    """The id of the raw row (its first id field that is a str), or ``?``."""
    try:
        data = json.loads(raw)
    except ValueError:
        return "?"
    if isinstance(data, dict):
        for name in _ID_FIELDS:
            value = data.get(name)
            if isinstance(value, str) and value:
                return value
    return "?"


_INDEX = re.compile(r"\[\d+\]")


def letter_key(letter: DeadLetter) -> LetterKey:
    """What makes a letter the same as one stored before. A reason may name the row's place in
    its frame or page (``execution[3].execId``), which differs when the row comes back."""
    reason = _INDEX.sub("[]", letter.reason)
    return (letter.source, letter.venue, letter.account, row_id(letter.raw), reason)


def printable(text: str, limit: int = _MESSAGE_MAX) -> str:
    """``text`` with control characters escaped, cut to ``limit``: fit for a log or an alert."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class DeadLetterBox:
    """The listener's (and the recorder's) way into the dead-letter store."""

    def __init__(
        self,
        store: DeadLetterStore,
        *,
        alerts: AlertSink | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.alerts = alerts
        self._clock = clock
        self._seen: set[LetterKey] | None = None
        self.failures = 0

    def letter(
        self, source: str, reason: str, raw: str, *, venue: str = "", account: str = ""
    ) -> DeadLetter:
        return DeadLetter(source, reason, raw, self._clock(), venue, account)

    def count(self) -> int:
        """Letters in the store; -1 when it cannot be read (reported, never raised)."""
        try:
            return self.store.count()
        except Exception as exc:
            log.error("dead-letter store cannot be counted: %s: %s", type(exc).__name__, exc)
            return -1

    async def put(self, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        """Store the letters not stored before and alert on each; returns those stored."""
        seen = await self._load()
        fresh: dict[LetterKey, DeadLetter] = {}
        for letter in letters:
            key = letter_key(letter)
            if key not in seen:
                fresh.setdefault(key, letter)
        if not fresh:
            return []
        new = list(fresh.values())
        try:
            await asyncio.to_thread(self.store.put, new)
        except Exception as exc:
            self.failures += 1
            for letter in new:  # not durable, but not silent: the log has the row and reason
                log.error("dead letter NOT stored (%s: %s): %s %s: %s; raw=%s",
                          type(exc).__name__, exc, letter.source, letter.account,
                          printable(letter.reason), printable(letter.raw))  # fmt: skip
            return []
        seen.update(fresh)
        for letter in new:
            await self._alert(letter)
        return new

    async def _load(self) -> set[LetterKey]:
        if self._seen is None:
            try:
                stored = await asyncio.to_thread(self.store.read)
            except Exception as exc:
                log.error("dead-letter store unreadable, duplicates may follow: %s", exc)
                stored = []
            self._seen = {letter_key(letter) for letter in stored}
        return self._seen

    async def _alert(self, letter: DeadLetter) -> None:
        item = row_id(letter.raw)
        await raise_alert(
            self.alerts,
            Alert(
                kind="dead_letter",
                venue=printable(letter.venue or "?", 32),
                account=printable(letter.account, 64),
                symbol="",
                message=printable(f"{letter.source} row {item} set aside: {letter.reason}"),
                at=letter.at,
                details={"source": printable(letter.source), "row_id": printable(item)},
            ),
        )
