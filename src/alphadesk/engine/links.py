"""A bot's client order ids (``order_link_id``) with a deterministic nonce.

Ids are :mod:`alphadesk.domain.order_link` encodings whose nonce is the decision time and a
per-maker counter, so a backtest run twice produces the same ids. One is made per order on the
per-order path, so the encoding is checked once per kind and its prefix remembered.
"""

from __future__ import annotations

from typing import Final

from alphadesk.domain import order_link
from alphadesk.domain.order_link import Purpose

_BASE36: Final = "0123456789abcdefghijklmnopqrstuvwxyz"
_EIGHT_DIGITS: Final = 36**8
_PAIRS: Final = tuple(a + b for a in _BASE36 for b in _BASE36)
"""Every two-digit base-36 string, by value (0..1295): ids are built two digits at a time."""


class LinkIds:
    """The ids of one bot's orders, numbered by its own counter."""

    def __init__(self, bot_id: str) -> None:
        self.bot_id = bot_id
        self._counter = 0
        self._prefixes: dict[tuple[Purpose, int | None], str] = {}
        self._plain_prefixes: dict[Purpose, str] = {}
        """``_prefixes`` of the kinds without a level (every entry and exit), by purpose alone:
        no key tuple to build, hash and compare per order."""

    def new(self, purpose: Purpose, now_ms: int, level: int | None = None) -> str:
        self._counter += 1
        # the nonce: ten base-36 digits, the low eight of now_ms, then two of the counter,
        # zero-padded (order_link.new_nonce's layout), built two digits at a time
        # (``%`` and ``//`` rather than divmod, and one f-string rather than five
        # concatenations: on the compiled build both are inline int and single-copy str work)
        pairs = _PAIRS
        rest = now_ms % _EIGHT_DIGITS
        d0 = rest % 1296
        rest //= 1296
        d1 = rest % 1296
        rest //= 1296
        d3, d2, n = pairs[rest // 1296], pairs[rest % 1296], pairs[self._counter % 1296]
        if level is None:
            prefix = self._plain_prefixes.get(purpose)
        else:
            prefix = self._prefixes.get((purpose, level))
        if prefix is not None:
            return f"{prefix}{d3}{d2}{pairs[d1]}{pairs[d0]}{n}"
        nonce = f"{d3}{d2}{pairs[d1]}{pairs[d0]}{n}"
        link = order_link.encode(self.bot_id, purpose, level=level, nonce=nonce)
        # Whether encode accepts, and what it puts before the nonce, depends only on the bot,
        # purpose and level (the nonce is always ten valid digits), so one check per kind is
        # enough; a refused kind is never remembered and raises again next time.
        if level is None:
            self._plain_prefixes[purpose] = link[: -len(nonce)]
        else:
            self._prefixes[(purpose, level)] = link[: -len(nonce)]
        return link
