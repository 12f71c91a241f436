"""A position's venue-side exits as the simulated venue holds them, in a form that outlives it.

A real exchange keeps a position's take-profit, stop-loss and trailing stop across a bot's
restart; the paper venue lives inside the bot's process and would lose them, leaving a restarted
paper bot holding a position with no exits. So the paper bot keeps the protection of its open
positions in a file and gives it back to the fresh venue (:mod:`alphadesk.paper.book`).
The trailing stop's armed flag and running extreme are part of it: re-arming a trailing stop from
its settings alone would move the stop back to where it started.

Pure: to and from plain JSON values, Decimal written as text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from alphadesk.domain.errors import InvalidField

_NUMBERS = ("qty", "take_profit", "stop_loss", "trailing", "activation", "extreme")


@dataclass(frozen=True, slots=True)
class Protection:
    """``qty`` is the signed position the exits were set for: they are given back only to the
    same position (a restart that finds another size keeps the venue unprotected and says so).
    Zero means "not set", as on Bybit."""

    qty: Decimal
    take_profit: Decimal
    stop_loss: Decimal
    trailing: Decimal
    activation: Decimal
    armed: bool
    extreme: Decimal

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = asdict(self)
        for name in _NUMBERS:
            out[name] = str(out[name])
        return out

    @classmethod
    def from_json(cls, where: str, raw: object) -> Protection:
        if not isinstance(raw, dict):
            raise InvalidField(where, raw, "must be an object")
        values: dict[str, Any] = {}
        for name in _NUMBERS:
            text = raw.get(name)
            try:
                number = Decimal(text) if isinstance(text, str) else None
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                raise InvalidField(f"{where}.{name}", text, "must be a decimal number as text")
            values[name] = number
        armed = raw.get("armed")
        if not isinstance(armed, bool):
            raise InvalidField(f"{where}.armed", armed, "must be true or false")
        return cls(armed=armed, **values)
