"""Whether the matching engine may take a domain ``OrderRequest`` as it is, without a
``SimOrderRequest`` copy: the one rule for both places that ask (``SimOrderRequest.takes_as_is``
and ``MatchingEngine.place_events``), compiled on the native build, where the engine calls it per
order with fields it read once.

An ``OrderRequest`` has checked its texts, quantity and prices already; what it does not share
with ``SimOrderRequest`` (the symbol and bot id lengths, the enum and bool types, which it does
not check) is what is left to look at.
"""

from __future__ import annotations

from typing import Final

from alphadesk.domain.enums import OrderType, Side, TimeInForce

MAX_SYMBOL: Final = 20
MAX_BOT_ID: Final = 50


def plain_fields(
    symbol: str, bot_id: str, side: object, order_type: object, tif: object, reduce_only: object
) -> bool:
    """True when ``SimOrderRequest`` would accept these fields as they are; False only means
    "copy it through the checking constructor", which names what is wrong."""
    return (
        len(symbol) <= MAX_SYMBOL
        and len(bot_id) <= MAX_BOT_ID
        and type(side) is Side
        and type(order_type) is OrderType
        and type(tif) is TimeInForce
        and type(reduce_only) is bool
    )
