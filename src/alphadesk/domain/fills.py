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
from typing import Any, Final, NamedTuple

from alphadesk.domain import checks
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.native_init import init_signature, is_native, native_value
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

    def __new__(cls, *_args: object, **_kwargs: object) -> Fill:
        """Only allocates, for the module's maker (why: :mod:`~alphadesk.domain.native_init`)."""
        return object.__new__(cls)

    def __post_init__(self) -> None:
        parsed = check_fields(
            self.venue, self.account, self.exec_id, self.bot_id, self.symbol, self.side,
            self.price, self.qty, self.fee, self.exec_time, self.exec_type, self.fee_currency,
            self.is_maker, self.order_id, self.order_link_id, self.order_type, self.closed_size,
            self.close_reason, self.seq,
        )  # fmt: skip
        if parsed is not None:
            object.__setattr__(self, "side", parsed["side"])
            object.__setattr__(self, "exec_type", parsed["exec_type"])

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
            and _plain_seq(seq)
        ):
            return cls(
                venue, account, exec_id, bot_id, symbol, side, price, qty, fee, exec_time,
                exec_type, "USDT", is_maker, order_id, order_link_id, order_type, closed_size,
                close_reason, seq,
            )  # fmt: skip
        return make_fill(
            venue, account, exec_id, bot_id, symbol, side, price, qty, fee, exec_time,
            exec_type, "USDT", is_maker, order_id, order_link_id, order_type, closed_size,
            close_reason, seq,
        )  # fmt: skip

    def relabelled(self, close_reason: str) -> Fill:
        """This fill with another ``close_reason`` (the router's label for why it traded). Only
        the new label is checked: every other field was, when this fill was made."""
        relabelled: Fill = _relabel(self, checked_label(close_reason))
        return relabelled

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


def check_fields(
    venue: object,
    account: object,
    exec_id: object,
    bot_id: object,
    symbol: object,
    side: object,
    price: object,
    qty: object,
    fee: object,
    exec_time: object,
    exec_type: object = ExecType.TRADE,
    fee_currency: object = "USDT",
    is_maker: object = False,
    order_id: object = "",
    order_link_id: object = "",
    order_type: object = "",
    closed_size: object = ZERO,
    close_reason: object = "",
    seq: object = None,
) -> dict[str, Any] | None:
    """Every check of a fill's fields (raises InvalidField naming the first wrong one). A side or
    exec type given as text is parsed: the parsed pair is returned to be stored instead (None
    when both were members already). A module function, not ``__post_init__``'s body, so the
    compiled build's constructor can run it on the values as given (:mod:`native_init`)."""
    checks.text("fill.venue", venue, max_len=32, plain=True)
    checks.text("fill.account", account, max_len=64, plain=True)
    checks.text("fill.exec_id", exec_id, max_len=100, plain=True)
    checks.key_part("fill.bot_id", bot_id, max_len=50)
    checks.key_part("fill.symbol", symbol, max_len=20)
    parsed_side = side if isinstance(side, Side) else Side.parse(side, "fill.side")
    kind = (
        exec_type if isinstance(exec_type, ExecType)
        else ExecType.parse(exec_type, "fill.exec_type")
    )  # fmt: skip
    price_d = checks.bounded("fill.price", checks.positive("fill.price", price), **_SIZE_BOUNDS)
    qty_d = checks.bounded("fill.qty", checks.positive("fill.qty", qty), **_SIZE_BOUNDS)
    fee_d = checks.bounded("fill.fee", checks.decimal("fill.fee", fee), high=MAX_AMOUNT)
    closed = checks.non_negative("fill.closed_size", closed_size)
    checks.bounded("fill.closed_size", closed, **_SIZE_BOUNDS)
    when = checks.utc("fill.exec_time", exec_time)
    if not EARLIEST_EXEC_TIME <= when < LATEST_EXEC_TIME:
        raise InvalidField(
            "fill.exec_time", exec_time,
            f"must be in [{EARLIEST_EXEC_TIME:%Y-%m-%d}, {LATEST_EXEC_TIME:%Y-%m-%d})",
        )  # fmt: skip
    checks.text("fill.fee_currency", fee_currency, max_len=16, allow_empty=True, plain=True)
    if not isinstance(is_maker, bool):
        raise InvalidField("fill.is_maker", is_maker, "must be bool")
    if fee_d and kind.moves_position:
        _check_trade_fee(fee_d, is_maker, price_d, qty_d)
    checks.text("fill.order_id", order_id, max_len=100, allow_empty=True, plain=True)
    checks.text("fill.order_link_id", order_link_id, max_len=200, allow_empty=True, plain=True)
    checks.text("fill.order_type", order_type, max_len=20, allow_empty=True, plain=True)
    checks.text("fill.close_reason", close_reason, max_len=50, allow_empty=True, plain=True)
    _check_seq(seq)
    if parsed_side is side and kind is exec_type:
        return None
    return {"side": parsed_side, "exec_type": kind}


def _check_trade_fee(fee: Decimal, is_maker: bool, price: Decimal, qty: Decimal) -> None:
    """A taker pays (fee >= 0); a maker may earn a rebate (fee < 0). Either way the fee is at
    most :data:`MAX_FEE_RATE` of the notional: Bybit's rates are hundredths of a percent, so
    more than 1 % is a corrupt row. Funding and settlement (either sign, sized by the position
    and the funding rate) have only the magnitude bound."""
    if fee < 0 and not is_maker:
        raise InvalidField("fill.fee", fee, "must be >= 0 on a taker fill")
    if fee.copy_abs() > price * qty * MAX_FEE_RATE:
        raise InvalidField(
            "fill.fee", fee, f"must be at most {MAX_FEE_RATE:%} of the notional {price * qty}"
        )


def _plain_seq(seq: object) -> bool:
    """Whether ``seq`` is None or an int in range, asked of an ``object``: compiled, an
    ``int | None`` narrowed to ``int`` would answer for ``True`` as for ``1``."""
    return seq is None or (type(seq) is int and 0 <= seq < SEQ_LIMIT)


def _check_seq(seq: object) -> None:
    if not _plain_seq(seq):
        raise InvalidField("fill.seq", seq, "must be an int in [0, 2**63) or None")


_NATIVE: Final = is_native(Fill)
_assemble: Final = slot_builder(Fill)  # fill_as_recorded's, once per ledger row it reads
_slot_make: Final = None if _NATIVE else slot_maker(Fill)
_relabel: Final = slot_replacer(Fill, "close_reason")  # slot descriptors, native ones too
if _NATIVE:
    native_value(Fill, "fill", check_fields)
else:
    init_signature(Fill)


def make_fill(
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
    exec_type: ExecType,
    fee_currency: str,
    is_maker: bool,
    order_id: str,
    order_link_id: str,
    order_type: str,
    closed_size: Decimal,
    close_reason: str,
    seq: int | None,
) -> Fill:
    """``Fill`` from one positional value per field, in field order, with no check at all: only
    for a venue holding values it checked itself (the simulator's matching engine, whose every
    path to it tests what its own state cannot vouch for: the market's time and prices). The
    fields are stored directly: native stores compiled, slot writes interpreted."""
    if _slot_make is not None:
        made: Fill = _slot_make(
            venue, account, exec_id, bot_id, symbol, side, price, qty, fee, exec_time,
            exec_type, fee_currency, is_maker, order_id, order_link_id, order_type, closed_size,
            close_reason, seq,
        )  # fmt: skip
        return made
    made = Fill.__new__(Fill)
    made.venue = venue  # type: ignore[misc]  # frozen for everyone else: this is its maker
    made.account = account  # type: ignore[misc]
    made.exec_id = exec_id  # type: ignore[misc]
    made.bot_id = bot_id  # type: ignore[misc]
    made.symbol = symbol  # type: ignore[misc]
    made.side = side  # type: ignore[misc]
    made.price = price  # type: ignore[misc]
    made.qty = qty  # type: ignore[misc]
    made.fee = fee  # type: ignore[misc]
    made.exec_time = exec_time  # type: ignore[misc]
    made.exec_type = exec_type  # type: ignore[misc]
    made.fee_currency = fee_currency  # type: ignore[misc]
    made.is_maker = is_maker  # type: ignore[misc]
    made.order_id = order_id  # type: ignore[misc]
    made.order_link_id = order_link_id  # type: ignore[misc]
    made.order_type = order_type  # type: ignore[misc]
    made.closed_size = closed_size  # type: ignore[misc]
    made.close_reason = close_reason  # type: ignore[misc]
    made.seq = seq  # type: ignore[misc]
    return made


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
