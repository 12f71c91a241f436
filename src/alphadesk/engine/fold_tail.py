"""The last few folds of one position, kept so a late fill costs a short refold, not a rebuild.

Fills reach the writer a little out of fold order all the time: frames are reordered on the wire,
fills of one millisecond arrive out of the venue's ``seq`` order, and a gap-fill page brings
executions that sort before ones already stored. Fold order is
:func:`alphadesk.domain.ordering.fold_key`, the one the ledger's rebuilds use too. The fold is
order-dependent (average price and realized PnL of a reduce depend on what came before), so such
a fill used to force a refold of the bot/symbol's whole history from the ledger, which at a few
thousand fills a second is most of the work.

A :class:`FoldTail` keeps, for the newest ``limit`` fills folded, each fill and the position after
it, plus the position before the oldest one kept and the fold key of the last fill it dropped. A
fill sorting after that dropped key can be folded in exactly by restarting from the kept position
just before it; only a fill older than everything kept needs the ledger. Positions are immutable
values, so keeping them costs no copies.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import FoldKey, fold_key
from alphadesk.domain.positions import Position

__all__ = ["FoldKey", "FoldTail", "Refold", "fold_key"]


@dataclass(frozen=True, slots=True)
class Refold:
    """The outcome of folding new fills in: the position after all of them, the newest fill
    (in fold order) and its key."""

    position: Position
    last: FoldKey
    newest: Fill


class FoldTail:
    """The newest folds of one (bot_id, symbol); see the module docstring."""

    __slots__ = ("_after", "_base", "_dropped", "_fills", "_keys", "limit")

    def __init__(self, base: Position, *, limit: int) -> None:
        self.limit = limit
        self._base = base  # the position before _fills[0]
        self._dropped: FoldKey | None = None  # the fold key of the newest fill no longer kept
        self._keys: list[FoldKey] = []
        self._fills: list[Fill] = []
        self._after: list[Position] = []

    @classmethod
    def of_history(cls, bot_id: str, symbol: str, fills: Iterable[Fill], *, limit: int) -> FoldTail:
        """The tail of a whole history (any order), folded from flat."""
        tail = cls(Position(bot_id, symbol), limit=limit)
        tail._append(sorted(fills, key=fold_key), tail._base)
        return tail

    @property
    def position(self) -> Position:
        return self._after[-1] if self._after else self._base

    def covers(self, key: FoldKey) -> bool:
        """Whether a fill with this fold key can be folded in without the older history."""
        return self._dropped is None or key > self._dropped

    def fold_in(self, fills: Sequence[Fill]) -> Refold:
        """Fold new fills (not yet folded, any order) in their place; the caller checked
        :meth:`covers` for the oldest of them."""
        new = sorted(fills, key=fold_key)
        start = bisect_right(self._keys, fold_key(new[0]))
        position = self._after[start - 1] if start else self._base
        later = self._fills[start:]
        del self._keys[start:], self._fills[start:], self._after[start:]
        merged = new if not later else sorted([*later, *new], key=fold_key)
        self._append(merged, position)
        return Refold(self.position, self._keys[-1], self._fills[-1])

    def _append(self, fills: Sequence[Fill], position: Position) -> None:
        for fill in fills:
            position = position.apply(fill)
            self._keys.append(fold_key(fill))
            self._fills.append(fill)
            self._after.append(position)
        excess = len(self._keys) - self.limit
        if excess > 0:
            self._base = self._after[excess - 1]
            self._dropped = self._keys[excess - 1]
            del self._keys[:excess], self._fills[:excess], self._after[:excess]
