"""The price history the control facade answers: a symbol's closed bars from the live state.

Read from the listener's bar stream (``events:bars``), never from the exchange. The stream is
shared by every symbol, so a symbol's bars are interleaved with the others': it is read newest
first in pages until enough of the symbol's bars are found or the scan bound is reached.
"""

from __future__ import annotations

from decimal import Decimal

from alphadesk.domain import checks
from alphadesk.domain.bars import Bar
from alphadesk.domain.errors import InvalidField
from alphadesk.engine.control_views import PriceBar, PriceHistory
from alphadesk.engine.state_ports import EventStream

#: Most bars one price history answers, and how many newest ``events:bars`` entries (all
#: symbols) it scans to find them: the stream is shared, so a symbol's bars are interleaved.
MAX_PRICE_BARS = 5_000
PRICE_SCAN = 50_000


async def price_history(
    bars: EventStream[Bar] | None, symbol: str, limit: int, page_size: int
) -> PriceHistory:
    """The newest ``limit`` closed bars of ``symbol``, oldest first, one per open time, at the
    interval of the newest bar; ``page_size`` entries per read of the stream."""
    symbol = checks.key_part("symbol", symbol, max_len=64)
    wrong_type = isinstance(limit, bool) or not isinstance(limit, int)
    if wrong_type or not 1 <= limit <= MAX_PRICE_BARS:
        raise InvalidField("limit", limit, f"must be an int from 1 to {MAX_PRICE_BARS}")
    if bars is None:
        return PriceHistory(symbol, None, ())
    picked: dict[int, Bar] = {}
    interval: int | None = None
    before: str | None = None
    for _ in range(0, PRICE_SCAN, page_size):
        page = await bars.recent(page_size, before=before)  # newest first
        for delivery in page:
            bar = delivery.event
            if bar.symbol != symbol:
                continue
            if interval is None:
                interval = bar.interval_min
            if bar.interval_min != interval or bar.open_time_ms in picked:
                continue  # another timeframe, or an older copy of a bar already taken
            picked[bar.open_time_ms] = bar
        if len(picked) >= limit or len(page) < page_size:
            break
        before = page[-1].id
    newest = sorted(picked.values(), key=lambda b: b.open_time_ms)[-limit:]
    rows = tuple(
        PriceBar(
            time=bar.open_time,
            open=Decimal(repr(bar.open)),
            high=Decimal(repr(bar.high)),
            low=Decimal(repr(bar.low)),
            close=Decimal(repr(bar.close)),
        )
        for bar in newest
    )
    return PriceHistory(symbol, interval, rows)
