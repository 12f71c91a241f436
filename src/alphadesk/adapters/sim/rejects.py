"""Why the simulated venue refuses a request, in Bybit's own return codes.

The simulator server answers REST calls with Bybit's ``retCode``; carrying that code on the error
means it needs no mapping table of its own, and the paper venue and backtest still get an ordinary
:class:`InvalidField` that names the field and value.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from alphadesk.domain.errors import InvalidField


class RejectCode(IntEnum):
    """Bybit V5 ``retCode`` values the matching engine can produce."""

    PARAMS_ERROR = 10001
    ORDER_NOT_EXISTS = 110001
    INSUFFICIENT_BALANCE = 110007
    REDUCE_ONLY_INCREASE = 110017
    LEVERAGE_NOT_MODIFIED = 110043
    DUPLICATE_LINK_ID = 110072
    TRIGGER_RISING_BELOW = 110092
    TRIGGER_FALLING_ABOVE = 110093
    MIN_NOTIONAL = 110094


class OrderRejected(InvalidField):
    """A request the venue refuses; ``code`` is the Bybit ``retCode`` to answer with."""

    def __init__(self, code: RejectCode, field: str, value: Any, reason: str) -> None:
        self.code = code
        super().__init__(field, value, reason)


# Bybit's rejectReason / cancel reasons on an order that was accepted and then cancelled.
POST_ONLY_WOULD_TAKE = "EC_PostOnlyWillTakeLiquidity"
REDUCE_ONLY_NO_POSITION = "EC_ReduceOnlySetButNoPosition"
