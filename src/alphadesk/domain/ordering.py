"""The one order fills are folded in: the venue's order, made total.

Everything order-dependent (the position fold, the FIFO round trips, the writer's fold tail, the
ledger's reads, the backtest's and analytics' replays, the bus's announcements) sorts with
:func:`fold_key`, so they all agree with each other and with the venue:

1. ``exec_time``: the venue's execution time (milliseconds on Bybit).
2. Cash settlements before position changes within one instant. Funding (and Bybit's ``Settle``)
   at 08:00:00.000 is charged on the position held *up to* that instant, so it belongs to the
   round trip an exit of the same millisecond closes, not to nothing after it. Every kind that
   moves the position (Trade, AdlTrade, BustTrade, BlockTrade, MovePosition, Delivery) shares one
   rank: between them only the venue's sequence can tell the order.
3. The venue's ``seq`` (Bybit's cross sequence, increasing with the matching engine's order);
   fills without one (rows recorded before it was kept) come after those with one: a same-instant
   mix is only possible across that upgrade, and within each group the order stays total.
4. ``exec_id``, then account and venue: arbitrary (Bybit's exec ids are random) but total, so
   every process sorts the same fills the same way and a replay is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from alphadesk.domain.enums import ExecType
from alphadesk.domain.fills import Fill

CASH_FIRST = 0
POSITION_CHANGE = 1
_RANK: dict[ExecType, int] = {
    kind: POSITION_CHANGE if kind.moves_position else CASH_FIRST for kind in ExecType
}

FoldKey = tuple[datetime, int, bool, int, str, str, str]
"""``(exec_time, rank, unsequenced, seq or 0, exec_id, account, venue)``: unique per fill key.
A plain tuple, not a NamedTuple: it is made for every fill the writer folds, and a NamedTuple
costs four times as much to build."""


def fold_key(fill: Fill) -> FoldKey:
    """Where ``fill`` sorts; see the module docstring for the rule."""
    seq = fill.seq
    return (
        fill.exec_time,
        _RANK[fill.exec_type],
        seq is None,
        0 if seq is None else seq,
        fill.exec_id,
        fill.account,
        fill.venue,
    )


def in_fold_order(fills: Iterable[Fill]) -> list[Fill]:
    """The fills sorted by :func:`fold_key` (a new list)."""
    return sorted(fills, key=fold_key)
