"""Where a restarted paper bot on replayed candles carries on: after the last bar it processed.

A paper bot replays candle files. Restarted from their first bar, it would trade a period it has
already traded (the ledger would hold every trade twice, at the same bar times, the second set
sized from the first set's ending equity). So the bot keeps, beside ``<bot_id>.paper.json`` in
the state folder, ``<bot_id>.paper-resume.json``: the close time of the last bar it processed,
and the first bar each symbol's indicators were warmed up from. The file is replaced atomically
(:class:`FileStateStore`). A restart starts at the first step not yet processed: after that close
time, or after the newest fill in the ledger when the file is missing or behind (a crash between
two writes), whichever is later, and never before ``--from``.

Warming the indicators up again from the first run's first bar (not just ``warmup_bars`` before
the resume point) gives them exactly the values an uninterrupted run would have: an EMA seeded at
a different bar differs for hundreds of bars, enough to move a cross by a bar.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from pathlib import Path

from alphadesk.adapters.storage.risk_state import FileStateStore
from alphadesk.domain.errors import InvalidField

_LAST = "last_close_ms"
_WARM = "warm_from_ms"


class PaperResume:
    def __init__(self, path: Path) -> None:
        self._store = FileStateStore(path, field="paper_resume.path")

    @property
    def path(self) -> Path:
        return self._store.path

    def last_close_ms(self) -> int | None:
        """The close time of the last bar a run processed (None: no run recorded one)."""
        raw = self._store.get(_LAST)
        if raw is None:
            return None
        if not raw.isdigit():
            raise InvalidField("paper_resume.last_close_ms", raw[:40], "must be epoch ms")
        return int(raw)

    def warm_from(self) -> dict[str, int]:
        """Per symbol, the open time of the first bar the first run warmed its indicators on."""
        raw = self._store.get(_WARM)
        if raw is None:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise InvalidField("paper_resume.warm_from_ms", raw[:80], "is not JSON") from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, int) for k, v in value.items()
        ):
            raise InvalidField(
                "paper_resume.warm_from_ms", raw[:80], "must map symbols to epoch ms"
            )
        return value

    def save_warm_from(self, first_open_ms: Mapping[str, int]) -> None:
        self._store.set(_WARM, json.dumps(dict(first_open_ms), sort_keys=True))

    def save(self, last_close_ms: int) -> None:
        """Record the last processed bar's close (no write when unchanged)."""
        self._store.set(_LAST, str(last_close_ms))


def first_step(
    timeline: Sequence[int],
    *,
    from_ms: int | None = None,
    last_close_ms: int | None = None,
    newest_fill_ms: int | None = None,
) -> int:
    """The first timeline step (bar open times, ascending) a run should trade.

    Not before ``from_ms``; after the bar that closed at ``last_close_ms``; after the bar in
    which the newest fill happened (a fill at a bar's open belongs to that bar). ``len(timeline)``
    when nothing is left.
    """
    bounds = [0]
    if from_ms is not None:
        bounds.append(bisect_left(timeline, from_ms))
    if last_close_ms is not None:
        bounds.append(bisect_left(timeline, last_close_ms))
    if newest_fill_ms is not None:
        bounds.append(bisect_right(timeline, newest_fill_ms))
    return max(bounds)
