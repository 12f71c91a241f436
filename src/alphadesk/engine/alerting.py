"""Alerts the listener raises (forced fills, position mismatches): logged, then delivered.

Delivery (the ``events:alerts`` stream, read by the Telegram bot and the dashboard) is best
effort: a failed delivery is logged and never stops the batch that raised the alert.
"""

from __future__ import annotations

import logging
from typing import Protocol

from alphadesk.domain.alerts import Alert

log = logging.getLogger(__name__)


class AlertSink(Protocol):
    async def alert(self, alert: Alert) -> None: ...


class OutageLog:
    """One log line per outage: :meth:`first` is True the first time ``what`` fails since it
    last worked (:meth:`over`)."""

    def __init__(self) -> None:
        self._failing: set[str] = set()

    def first(self, what: str) -> bool:
        first = what not in self._failing
        self._failing.add(what)
        return first

    def over(self, what: str) -> None:
        self._failing.discard(what)


async def raise_alert(sink: AlertSink | None, alert: Alert) -> None:
    log.warning("ALERT %s %s/%s %s: %s", alert.kind, alert.venue, alert.account, alert.symbol,
                alert.message)
    if sink is None:
        return
    try:
        await sink.alert(alert)
    except Exception as exc:
        log.error("alert delivery failed: %s", exc)
