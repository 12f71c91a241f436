"""An order the router handed to the venue whose end the venue has not reported yet.

Kept per order in :attr:`Router.inflight <alphadesk.engine.router.Router.inflight>`: what was
asked (the request, its purpose and reason, its reference price and a follow-up entry to send
when it fills), what has filled so far, and whether handing it over left its fate unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from alphadesk.domain.intents import EnterIntent
from alphadesk.domain.order_link import Purpose
from alphadesk.domain.requests import OrderRequest

ZERO: Final = Decimal(0)


@dataclass(slots=True, init=False)
class InFlight:
    """One order handed to the venue whose end the venue has not reported yet.

    The ``__init__`` is written out (``init=False``): the one ``dataclass`` generates is
    interpreted code even on the compiled build, three times the cost of this (one per order)."""

    request: OrderRequest
    purpose: Purpose
    reason: str
    sent_ms: int
    ref_price: Decimal
    follow_up: EnterIntent | None
    filled: Decimal
    unknown: bool
    qty: Decimal = field(repr=False, compare=False)
    """``request.qty``, kept for the fills: a read of the interpreted request costs a generic
    attribute lookup on the compiled build, once per fill."""

    def __init__(
        self,
        request: OrderRequest,
        purpose: Purpose,
        reason: str,
        sent_ms: int,
        ref_price: Decimal,
        follow_up: EnterIntent | None = None,
        filled: Decimal = ZERO,
        unknown: bool = False,
        qty: Decimal | None = None,
    ) -> None:
        """``qty``: ``request.qty`` when the caller has it at hand (the router's own orders)."""
        self.request = request
        self.purpose = purpose
        self.reason = reason
        self.sent_ms = sent_ms
        self.ref_price = ref_price
        self.follow_up = follow_up
        self.filled = filled
        self.unknown = unknown
        self.qty = request.qty if qty is None else qty

    @property
    def symbol(self) -> str:
        return self.request.symbol
