from __future__ import annotations

from decimal import Decimal

import pytest

from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.positions import Position, fold
from alphadesk.testing.builders import make_fill

D = Decimal


def _pos() -> Position:
    return Position("shortseller_001", "BTCUSDT")


def test_long_open_add_and_partial_close() -> None:
    p = _pos().apply(make_fill("Buy", "1", "100", "0.1"))
    p = p.apply(make_fill("Buy", "1", "110", "0.1"))
    assert p.qty == D(2) and p.avg_entry_price == D(105) and p.side is Side.BUY
    p = p.apply(make_fill("Sell", "0.5", "120", "0.05"))
    assert p.qty == D("1.5")
    assert p.avg_entry_price == D(105)
    assert p.realized_pnl == D("0.5") * 15 - D("0.25")
    assert p.unrealized_pnl(D(100)) == D("-7.5")


def test_short_pnl_has_the_right_sign() -> None:
    p = _pos().apply(make_fill("Sell", "2", "100", "0"))
    assert p.side is Side.SELL and p.qty == D(-2)
    assert p.unrealized_pnl(D(90)) == D(20)
    p = p.apply(make_fill("Buy", "2", "95", "0"))
    assert p.is_flat and p.realized_pnl == D(10) and p.avg_entry_price == 0


def test_single_fill_flips_long_to_short() -> None:
    p = _pos().apply(make_fill("Buy", "1", "100", "1"))
    p = p.apply(make_fill("Sell", "3", "110", "3"))
    assert p.qty == D(-2)
    assert p.side is Side.SELL
    assert p.avg_entry_price == D(110)
    assert p.realized_pnl == D(10) - D(4)
    assert p.fees == D(4)


def test_funding_is_pnl_not_position() -> None:
    p = _pos().apply(make_fill("Buy", "1", "100"))
    p = p.apply(make_fill("Buy", "1", "100", "0.01", exec_type=ExecType.FUNDING))
    assert p.qty == D(1)
    assert p.realized_pnl == D("-0.01")
    assert p.funding == D("0.01")
    rebate = p.apply(make_fill("Sell", "1", "100", "-0.02", exec_type=ExecType.FUNDING))
    assert rebate.realized_pnl == D("0.01") and rebate.qty == D(1)


def test_fill_of_another_symbol_or_bot_is_refused() -> None:
    with pytest.raises(InvalidField, match="fill.symbol"):
        _pos().apply(make_fill(symbol="ETHUSDT"))
    with pytest.raises(InvalidField, match="fill.bot_id"):
        _pos().apply(make_fill(bot_id="lxalgo_001"))


def test_fold_sorts_by_exec_time() -> None:
    fills = [make_fill("Sell", "1", "120", seconds=10), make_fill("Buy", "1", "100", seconds=0)]
    assert fold("shortseller_001", "BTCUSDT", fills).realized_pnl == D(20)


def test_side_opposite_sign_and_a_positions_side_from_bound_members() -> None:
    """Side.opposite/sign and Position.side read module-bound members: the same answers."""
    assert Side.BUY.opposite is Side.SELL and Side.SELL.opposite is Side.BUY
    assert (Side.BUY.sign, Side.SELL.sign) == (1, -1)
    assert Position("b", "BTCUSDT", Decimal("0.5")).side is Side.BUY
    assert Position("b", "BTCUSDT", Decimal("-0.5")).side is Side.SELL
    assert Position("b", "BTCUSDT", Decimal("-0")).side is None
    assert Position("b", "BTCUSDT").unrealized_pnl(Decimal(7)) == 0
    with pytest.raises(InvalidField) as refused:
        Position("b", "BTCUSDT", Decimal(1), Decimal(5)).unrealized_pnl(Decimal("NaN"))
    assert refused.value.field == "mark_price"
