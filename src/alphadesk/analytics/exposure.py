"""Time in the market: the share of a period during which any position was open.

Measured from fills (when each bot's netted position on each symbol was non-zero), so the ledger
and a backtest compute it the same way. Overlapping positions count once: exposure answers "was
the desk at risk", not "how much".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import in_fold_order

ZERO = Decimal(0)


def open_intervals(fills: Iterable[Fill], end_ms: int) -> list[tuple[int, int]]:
    """[start, end) intervals in which some position was open; still-open ones end at end_ms."""
    qty: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    opened: dict[tuple[str, str], int] = {}
    intervals: list[tuple[int, int]] = []
    ordered = in_fold_order(f for f in fills if f.moves_position)
    for fill in ordered:
        key = (fill.bot_id, fill.symbol)
        before = qty[key]
        after = before + fill.signed_qty
        at = to_epoch_ms(fill.exec_time)
        if before == 0 and after != 0:
            opened[key] = at
        elif before != 0 and after == 0:
            intervals.append((opened.pop(key), at))
        qty[key] = after
    intervals.extend((start, max(start, end_ms)) for start in opened.values())
    return intervals


def exposure(fills: Iterable[Fill], start_ms: int, end_ms: int) -> Decimal:
    """Fraction of [start_ms, end_ms) covered by the union of open-position intervals."""
    if end_ms <= start_ms:
        raise InvalidField("end_ms", end_ms, f"must be after start_ms {start_ms}")
    covered = 0
    reach = start_ms
    for begin, finish in sorted(open_intervals(fills, end_ms)):
        lo, hi = max(begin, reach), min(finish, end_ms)
        if hi > lo:
            covered += hi - lo
            reach = hi
    return Decimal(covered) / Decimal(end_ms - start_ms)
