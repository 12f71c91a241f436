"""The JSON value of ``position:{bot_id}:{symbol}``.

``{"size", "side", "avg_price", "unrealized_pnl", "updated_at", "seq"}``: the seed's fields, with
numbers as the strings of their Decimals, ``side`` ``"Buy"``/``"Sell"`` or the seed's ``"None"``
when flat, ``updated_at`` ISO-8601 UTC to the millisecond with ``Z`` (fixed width, so the write
script can order two of them as plain strings), and ``seq`` the ledger's fill count (an int),
which orders writes (see :class:`~alphadesk.engine.state_ports.PositionState`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.engine.state_ports import PositionState

_FLAT = "None"


def iso_ms(value: datetime) -> str:
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso_ms(field: str, value: object) -> datetime:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise InvalidField(field, value, "must be ISO-8601 UTC ending in Z")
    try:
        return datetime.strptime(value[:-1] + "+0000", "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        raise InvalidField(field, value, "must be ISO-8601 UTC ending in Z") from None


def encode_position(state: PositionState) -> str:
    return json.dumps(
        {
            "size": str(state.size),
            "side": state.side.value if state.side is not None else _FLAT,
            "avg_price": str(state.avg_price),
            "unrealized_pnl": str(state.unrealized_pnl),
            "updated_at": iso_ms(state.updated_at),
            "seq": state.seq,
        },
        separators=(",", ":"),
    )


def _decimal(data: dict[str, Any], name: str) -> Decimal:
    raw = data.get(name)
    if not isinstance(raw, str):
        raise InvalidField(f"position.{name}", raw, "must be a decimal string")
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise InvalidField(f"position.{name}", raw, "is not a decimal") from None


def decode_position(bot_id: str, symbol: str, raw: bytes | str) -> PositionState:
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidField("position", raw, "is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidField("position", raw, "must be a JSON object")
    side = data.get("side")
    return PositionState(
        bot_id=bot_id,
        symbol=symbol,
        size=_decimal(data, "size"),
        side=None if side == _FLAT else Side.parse(side, "position.side"),
        avg_price=_decimal(data, "avg_price"),
        unrealized_pnl=_decimal(data, "unrealized_pnl"),
        updated_at=parse_iso_ms("position.updated_at", data.get("updated_at")),
        seq=data.get("seq"),  # type: ignore[arg-type]  # validated by PositionState
    )
