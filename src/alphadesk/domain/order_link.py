"""The ``orderLinkId`` codec: which bot placed an order, and why.

Each order the desk places carries its bot and purpose in Bybit's client order id, because that is
the one field that comes back on every order update, execution and history row. Bybit allows at
most 36 characters of ``[A-Za-z0-9_-]`` there, so the id is ``{bot}-{purpose}-{nonce}``:

- ``bot``: ``[A-Za-z0-9_]{1,20}`` (``shortseller_001``); no ``-``, which is the separator;
- ``purpose``: a short code (``e`` entry, ``sl`` stop loss, ``tp1``..``tp99`` take-profit level,
  ``tr`` trailing, ``be`` breakeven, ``m`` manual, ``k`` kill);
- ``nonce``: ``[0-9a-z]{1,10}``, by default eight base-36 digits of the epoch millisecond and two of
  a per-process counter that starts at a random value, so ids stay unique and sort by time.

20 + 1 + 4 + 1 + 10 = 36: the longest id still fits. Decoding never raises: an id the desk did not
make (empty, a 32-character hex id, the seed's ``shortseller_001:entry:1761338358429``) is
attributed to purpose ``manual`` and bot ``unknown``, because a fill must always be recorded, and a
wrong guess at attribution would be worse than an honest "unknown".
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import UNKNOWN_BOT

MAX_LEN = 36
MAX_BOT_LEN = 20
MAX_NONCE_LEN = 10
MAX_TP_LEVEL = 99

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_BOT_RE = re.compile(r"[A-Za-z0-9_]{1,20}")
_NONCE_RE = re.compile(r"[0-9a-z]{1,10}")
_ID_RE = re.compile(r"([A-Za-z0-9_]{1,20})-(e|sl|tp[1-9][0-9]?|tr|be|m|k)-([0-9a-z]{1,10})")


class Purpose(StrEnum):
    ENTRY = "entry"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING = "trailing"
    BREAKEVEN = "breakeven"
    MANUAL = "manual"
    KILL = "kill"


_CODES: dict[Purpose, str] = {
    Purpose.ENTRY: "e",
    Purpose.STOP_LOSS: "sl",
    Purpose.TAKE_PROFIT: "tp",
    Purpose.TRAILING: "tr",
    Purpose.BREAKEVEN: "be",
    Purpose.MANUAL: "m",
    Purpose.KILL: "k",
}
_PURPOSES: dict[str, Purpose] = {code: purpose for purpose, code in _CODES.items()}


@dataclass(frozen=True, slots=True)
class OrderLink:
    """A decoded ``orderLinkId``. ``level`` is set only for take-profit orders (1-based)."""

    bot_id: str
    purpose: Purpose
    nonce: str = ""
    level: int | None = None
    raw: str = ""

    @property
    def is_ours(self) -> bool:
        """True when the id was made by :func:`encode` (and so the attribution is reliable)."""
        return self.bot_id != UNKNOWN_BOT

    @property
    def reason(self) -> str:
        """A label for reports and the fills table: ``take_profit_2``, ``stop_loss``, ``manual``."""
        if self.purpose is Purpose.TAKE_PROFIT and self.level is not None:
            return f"{self.purpose.value}_{self.level}"
        return self.purpose.value


def _base36(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, rem = divmod(value, 36)
        digits.append(_BASE36[rem])
    return "".join(reversed(digits))


_counter = itertools.count(secrets.randbelow(36 * 36))


def new_nonce(now_ms: int | None = None) -> str:
    """Ten base-36 characters: the epoch millisecond (8, good until 2059) and a counter (2)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    if ms < 0:
        raise InvalidField("order_link.now_ms", ms, "must be >= 0")
    return _base36(ms, 8) + _base36(next(_counter) % (36 * 36), 2)


def encode(
    bot_id: str, purpose: Purpose, *, level: int | None = None, nonce: str | None = None
) -> str:
    """Build an ``orderLinkId``; :class:`InvalidField` for a bot id or level that cannot fit."""
    if not isinstance(bot_id, str) or not _BOT_RE.fullmatch(bot_id):
        raise InvalidField(
            "order_link.bot_id", bot_id, "must be 1-20 characters of [A-Za-z0-9_] (no '-')"
        )
    if bot_id == UNKNOWN_BOT:
        raise InvalidField(
            "order_link.bot_id", bot_id, "is reserved for orders the desk did not make"
        )
    if not isinstance(purpose, Purpose):
        raise InvalidField("order_link.purpose", purpose, "must be a Purpose")
    code = _CODES[purpose]
    if purpose is Purpose.TAKE_PROFIT:
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= MAX_TP_LEVEL:
            raise InvalidField(
                "order_link.level", level, f"take profit needs a level 1..{MAX_TP_LEVEL}"
            )
        code = f"{code}{level}"
    elif level is not None:
        raise InvalidField(
            "order_link.level", level, f"only take profit has a level, not {purpose}"
        )
    nonce = new_nonce() if nonce is None else nonce
    if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
        raise InvalidField("order_link.nonce", nonce, "must be 1-10 characters of [0-9a-z]")
    link = f"{bot_id}-{code}-{nonce}"
    assert len(link) <= MAX_LEN  # guaranteed by the three patterns above
    return link


def decode(order_link_id: object) -> OrderLink:
    """Decode any id; one the desk did not make gives purpose ``manual`` and bot ``unknown``."""
    raw = order_link_id if isinstance(order_link_id, str) else ""
    match = _ID_RE.fullmatch(raw) if len(raw) <= MAX_LEN else None
    if match is None:
        return OrderLink(bot_id=UNKNOWN_BOT, purpose=Purpose.MANUAL, raw=raw)
    bot_id, code, nonce = match.groups()
    level: int | None = None
    if code.startswith("tp"):
        level = int(code[2:])
        code = "tp"
    return OrderLink(bot_id=bot_id, purpose=_PURPOSES[code], nonce=nonce, level=level, raw=raw)
