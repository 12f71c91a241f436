"""A fill: one execution reported by a venue, the unit the ledger records exactly once.

Identity is ``(venue, account, exec_id)``: Bybit's ``execId`` is unique per account, and the same
execution may reach us over WebSocket and again over REST history. Everything else is payload.
Validation happens at construction so that no invalid fill can exist in memory, let alone in the
ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from alphadesk.domain import checks
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.slots import slot_builder, slot_maker, slot_replacer

UNKNOWN_BOT = "unknown"
ZERO = Decimal(0)

#: Sanity bounds on what a venue can report (a row outside them is corrupt, not a trade): a
#: price, quantity or closed size lies in [1e-12, 1e12] with at most 18 decimal places (Bybit's
#: finest tick and lot are 1e-8; 28 significant digits is Decimal's own precision, past which
#: every sum rounds); a fee is at most 1e12 in magnitude with at most 28 decimal places (a rate
#: times a notional). Executions exist only from 2018 (Bybit's launch) and before 2100.
MAX_AMOUNT = Decimal("1e12")
MIN_AMOUNT = Decimal("1e-12")
MAX_PLACES = 18
MAX_FEE_RATE = Decimal("0.01")
EARLIEST_EXEC_TIME = datetime(2018, 1, 1, tzinfo=UTC)
LATEST_EXEC_TIME = datetime(2100, 1, 1, tzinfo=UTC)
#: The same bounds in epoch milliseconds, for a venue that keeps time as an int (the simulator
#: checks its fill times against these, an int comparison, before it makes the datetime).
EARLIEST_EXEC_MS = 1_514_764_800_000
LATEST_EXEC_MS = 4_102_444_800_000
_SIZE_BOUNDS: dict[str, Any] = {"high": MAX_AMOUNT, "low": MIN_AMOUNT, "max_places": MAX_PLACES}
SEQ_LIMIT = 2**63  # the ledger's bigint column


class FillKey(NamedTuple):
    """A tuple, not a frozen dataclass: it is made for every fill on every write and looked up
    in sets and dicts, and a tuple is built and hashed in C."""

    venue: str
    account: str
    exec_id: str


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``fee`` is what we paid (negative for a maker rebate), in ``fee_currency``.

    For ``exec_type=Funding`` Bybit reports the mark price as ``price``, the position size as
    ``qty`` and the funding amount as ``fee``: it is PnL but never a position change.

    ``seq`` is the venue's sequence number of the execution (Bybit's ``seq``), None when the
    source has none (rows recorded before it was kept). Exec ids are random, so it is what
    orders fills of one millisecond: see :mod:`alphadesk.domain.ordering`.
    """

    venue: str
    account: str
    exec_id: str
    bot_id: str
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    exec_time: datetime
    exec_type: ExecType = ExecType.TRADE
    fee_currency: str = "USDT"
    is_maker: bool = False
    order_id: str = ""
    order_link_id: str = ""
    order_type: str = ""
    closed_size: Decimal = Decimal(0)
    close_reason: str = ""
    seq: int | None = None

    def __post_init__(self) -> None:
        checks.text("fill.venue", self.venue, max_len=32, plain=True)
        checks.text("fill.account", self.account, max_len=64, plain=True)
        checks.text("fill.exec_id", self.exec_id, max_len=100, plain=True)
        checks.key_part("fill.bot_id", self.bot_id, max_len=50)
        checks.key_part("fill.symbol", self.symbol, max_len=20)
        if not isinstance(self.side, Side):
            object.__setattr__(self, "side", Side.parse(self.side, "fill.side"))
        if not isinstance(self.exec_type, ExecType):
            object.__setattr__(self, "exec_type", ExecType.parse(self.exec_type, "fill.exec_type"))
        checks.positive("fill.price", self.price)
        checks.bounded("fill.price", self.price, **_SIZE_BOUNDS)
        checks.positive("fill.qty", self.qty)
        checks.bounded("fill.qty", self.qty, **_SIZE_BOUNDS)
        checks.bounded("fill.fee", self.fee, high=MAX_AMOUNT)
        checks.non_negative("fill.closed_size", self.closed_size)
        checks.bounded("fill.closed_size", self.closed_size, **_SIZE_BOUNDS)
        checks.utc("fill.exec_time", self.exec_time)
        if not EARLIEST_EXEC_TIME <= self.exec_time < LATEST_EXEC_TIME:
            raise InvalidField(
                "fill.exec_time", self.exec_time,
                f"must be in [{EARLIEST_EXEC_TIME:%Y-%m-%d}, {LATEST_EXEC_TIME:%Y-%m-%d})",
            )  # fmt: skip
        checks.text("fill.fee_currency", self.fee_currency, max_len=16, allow_empty=True,
                    plain=True)  # fmt: skip
        if not isinstance(self.is_maker, bool):
            raise InvalidField("fill.is_maker", self.is_maker, "must be bool")
        if self.fee and self.exec_type.moves_position:
            self._check_trade_fee()
        checks.text("fill.order_id", self.order_id, max_len=100, allow_empty=True, plain=True)
        checks.text("fill.order_link_id", self.order_link_id, max_len=200, allow_empty=True,
                    plain=True)  # fmt: skip
        checks.text("fill.order_type", self.order_type, max_len=20, allow_empty=True, plain=True)
        checks.text("fill.close_reason", self.close_reason, max_len=50, allow_empty=True,
                    plain=True)  # fmt: skip
        _check_seq(self.seq)

    def _check_trade_fee(self) -> None:
        """A taker pays (fee >= 0); a maker may earn a rebate (fee < 0). Either way the fee is
        at most :data:`MAX_FEE_RATE` of the notional: Bybit's rates are hundredths of a percent,
        so more than 1 % is a corrupt row. Funding and settlement (either sign, sized by the
        position and the funding rate) have only the magnitude bound."""
        if self.fee < 0 and not self.is_maker:
            raise InvalidField("fill.fee", self.fee, "must be >= 0 on a taker fill")
        if self.fee.copy_abs() > self.price * self.qty * MAX_FEE_RATE:
            raise InvalidField(
                "fill.fee", self.fee,
                f"must be at most {MAX_FEE_RATE:%} of the notional {self.price * self.qty}",
            )  # fmt: skip

    @classmethod
    def trusted(  # positional too: the matching engine makes one per trade, keywords cost more
        cls,
        venue: str,
        account: str,
        exec_id: str,
        bot_id: str,
        symbol: str,
        side: Side,
        price: Decimal,
        qty: Decimal,
        fee: Decimal,
        exec_time: datetime,
        exec_type: ExecType = ExecType.TRADE,
        is_maker: bool = False,
        order_id: str = "",
        order_link_id: str = "",
        order_type: str = "",
        closed_size: Decimal = ZERO,
        close_reason: str = "",
        seq: int | None = None,
    ) -> Fill:
        """The same fill, for a venue that made it from its own checked state (the simulated
        matching engine): venue, account and ids are its own and not re-checked; the bot, the
        symbol, the numbers and the time are, cheaply. Anything doubtful goes through the checking
        constructor, which raises as usual."""
        if not (
            type(bot_id) is str
            and 0 < len(bot_id) <= 50
            and type(symbol) is str
            and 0 < len(symbol) <= 20
            and type(side) is Side
            and type(exec_type) is ExecType
            and type(price) is Decimal
            and type(qty) is Decimal
            and type(fee) is Decimal
            and type(closed_size) is Decimal
            and price.is_finite()
            and qty.is_finite()
            and fee.is_finite()
            and closed_size.is_finite()
            and ZERO < price <= MAX_AMOUNT
            and ZERO < qty <= MAX_AMOUNT
            and -MAX_AMOUNT <= fee <= MAX_AMOUNT
            and closed_size >= ZERO
            and type(exec_time) is datetime
            and exec_time.tzinfo is UTC
            and EARLIEST_EXEC_TIME <= exec_time < LATEST_EXEC_TIME
            and type(is_maker) is bool
            and len(close_reason) <= 50
            and (seq is None or (type(seq) is int and 0 <= seq < SEQ_LIMIT))
        ):
            return cls(
                venue, account, exec_id, bot_id, symbol, side, price, qty, fee, exec_time,
                exec_type, "USDT", is_maker, order_id, order_link_id, order_type, closed_size,
                close_reason, seq,
            )  # fmt: skip
        return _assemble(
            (
                venue, account, exec_id, bot_id, symbol, side, price, qty, fee, exec_time,
                exec_type, "USDT", is_maker, order_id, order_link_id, order_type, closed_size,
                close_reason, seq,
            )
        )  # fmt: skip

    def relabelled(self, close_reason: str) -> Fill:
        """This fill with another ``close_reason`` (the router's label for why it traded). Only
        the new label is checked: every other field was, when this fill was made."""
        return _relabel(self, checked_label(close_reason))

    @property
    def key(self) -> FillKey:
        return FillKey(self.venue, self.account, self.exec_id)

    @property
    def notional(self) -> Decimal:
        return self.price * self.qty

    @property
    def signed_qty(self) -> Decimal:
        """Quantity with the fill's direction: what it adds to a one-way position."""
        return self.qty if self.side is Side.BUY else -self.qty

    @property
    def moves_position(self) -> bool:
        return self.exec_type.moves_position


def _check_seq(seq: object) -> None:
    if seq is not None and (type(seq) is not int or not 0 <= seq < SEQ_LIMIT):
        raise InvalidField("fill.seq", seq, "must be an int in [0, 2**63) or None")


_assemble = slot_builder(Fill)
make_fill = slot_maker(Fill)
"""``Fill`` from one positional value per field, in field order, with no check at all: only for
a venue holding values it checked itself (the simulator's matching engine, whose every path to
it tests what its own state cannot vouch for: the market's time and prices)."""
_relabel = slot_replacer(Fill, "close_reason")
_GOOD_LABELS: set[str] = set()
"""Labels :func:`checked_label` has checked already (the check depends on the text alone)."""


def checked_label(close_reason: str) -> str:
    """``close_reason`` once it passes the field's check (raises otherwise); a bot has a handful
    of labels, so each is checked once and remembered (bounded all the same)."""
    if type(close_reason) is not str or close_reason not in _GOOD_LABELS:
        checks.text("fill.close_reason", close_reason, max_len=50, allow_empty=True)
        if len(_GOOD_LABELS) < 4096:
            _GOOD_LABELS.add(close_reason)
    return close_reason


def fill_from_mapping(data: dict[str, Any]) -> Fill:
    """Build a fill from a mapping (a spool line, a test builder); validation still applies."""
    try:
        return Fill(**data)
    except TypeError as exc:
        raise InvalidField("fill", sorted(data), str(exc)) from None


_MONEY = ("price", "qty", "fee", "closed_size")
_TEXTS = ("venue", "account", "exec_id", "bot_id", "symbol", "fee_currency", "order_id",
          "order_link_id", "order_type", "close_reason")  # fmt: skip


def fill_as_recorded(data: dict[str, Any]) -> Fill:
    """A fill read back from the ledger. It was checked when it was written; when a bound added
    since refuses it (a symbol with ``:`` recorded before symbols were checked at the wire, a
    taker's negative fee), it is still read as stored: the ledger is the truth and must stay
    readable, and whatever such a fill cannot feed (a state-store key) refuses it there, for
    that key alone. Values of the wrong type still raise."""
    try:
        return fill_from_mapping(data)
    except InvalidField as refused:
        try:
            values = {f.name: data.get(f.name, f.default) for f in fields(Fill)}
            values["side"] = Side.parse(values["side"], "fill.side")
            values["exec_type"] = ExecType.parse(values["exec_type"], "fill.exec_type")
            for name in _MONEY:
                checks.decimal(f"fill.{name}", values[name])
            for name in _TEXTS:
                checks.text(f"fill.{name}", values[name], allow_empty=True)
            checks.utc("fill.exec_time", values["exec_time"])
            if type(values["is_maker"]) is not bool:
                raise InvalidField("fill.is_maker", values["is_maker"], "must be bool")
            _check_seq(values["seq"])
        except (InvalidField, KeyError):
            raise refused from None
        return _assemble(tuple(values.values()))
