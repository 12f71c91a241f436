"""Quick reads of a strategy's portfolio that build no :class:`PositionView`.

Strategies ask these on every bar they are called on. They live apart from ``api`` (which the
mypyc build leaves interpreted: tests and users subclass its ``Strategy``) so that the compiled
strategies call them directly; ``api`` re-exports both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from alphadesk.domain.enums import Side

if TYPE_CHECKING:
    from alphadesk.strategies.api import PortfolioView


def holds(portfolio: PortfolioView, symbol: str) -> bool:
    """Whether ``symbol`` is held, without building a :class:`PositionView`.

    The engine's portfolio answers with a dict lookup (``holds``); any other view falls back to
    ``position(symbol) is not None``. Strategies ask this on every bar they see, and a view with
    Decimal unrealised PnL costs a microsecond or two to build.
    """
    fast = getattr(portfolio, "holds", None)
    if fast is not None:
        held: bool = fast(symbol)
        return held
    return portfolio.position(symbol) is not None


def side_of(portfolio: PortfolioView, symbol: str) -> Side | None:
    """``position(symbol).side``, or None when flat, without building the view (the engine's
    portfolio answers from a dict through ``side_of``)."""
    fast = getattr(portfolio, "side_of", None)
    if fast is not None:
        side: Side | None = fast(symbol)
        return side
    position = portfolio.position(symbol)
    return None if position is None else position.side


def entry_time(portfolio: PortfolioView, symbol: str) -> int | None:
    """``position(symbol).entry_time_ms``, or None when flat, without building the view (the
    engine's portfolio answers from a dict through ``entry_time``)."""
    fast = getattr(portfolio, "entry_time", None)
    if fast is not None:
        entered: int | None = fast(symbol)
        return entered
    position = portfolio.position(symbol)
    return None if position is None else position.entry_time_ms


def entry_of(portfolio: PortfolioView, symbol: str) -> tuple[Decimal, int] | None:
    """``(position.avg_entry, position.entry_time_ms)``, or None when flat, without building the
    view (the engine's portfolio answers through ``entry_of``, without the unrealised PnL)."""
    fast = getattr(portfolio, "entry_of", None)
    if fast is not None:
        entry: tuple[Decimal, int] | None = fast(symbol)
        return entry
    position = portfolio.position(symbol)
    return None if position is None else (position.avg_entry, position.entry_time_ms)
