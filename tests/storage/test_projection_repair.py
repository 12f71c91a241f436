"""The position projection heals itself: a failure between commit and row update never sticks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ledger_support import Ledger, MakeFill

from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import PositionSave

T0 = datetime(2025, 10, 24, 5, 15, tzinfo=UTC)


class _SaveFailsOnce:
    """Wraps a real store; its next ``save_positions`` raises, as a dropped connection would."""

    def __init__(self, ledger: Ledger) -> None:
        self._inner = ledger.store
        self.fail_next = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def save_positions(self, saves: Sequence[PositionSave]) -> set[tuple[str, str]]:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("database went away after the fills commit")
        return await self._inner.save_positions(saves)


async def _qty(ledger: Ledger, bot: str, symbol: str) -> Decimal:
    rows = await ledger.fetch(
        f"SELECT size, side FROM trading.positions WHERE bot_id = '{bot}' AND symbol = '{symbol}'"
    )
    size = Decimal(str(rows[0]["size"]))
    return -size if rows[0]["side"] == "Sell" else size


async def test_a_failed_projection_is_rebuilt_not_carried(
    ledger: Ledger, make_fill: MakeFill, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = _SaveFailsOnce(ledger)
    writer = FillWriter(flaky)  # type: ignore[arg-type]
    buy = {"side": "Buy", "execQty": "1", "execPrice": "100", "symbol": "BTCUSDT"}
    first = make_fill(at=T0, **buy)
    assert (await writer.write([first])).inserted_count == 1
    assert await _qty(ledger, "lxalgo_001", "BTCUSDT") == Decimal(1)

    flaky.fail_next = True
    second = make_fill(at=T0 + timedelta(seconds=1), **buy)
    result = await writer.write([second])
    assert result.inserted_count == 1, "the fill is committed even though the row update failed"
    assert "not updated" in caplog.text
    assert await _qty(ledger, "lxalgo_001", "BTCUSDT") == Decimal(1)  # stale for now

    assert (await writer.write([second])).duplicate_count == 1  # a caller's retry
    assert await _qty(ledger, "lxalgo_001", "BTCUSDT") == Decimal(2)  # repaired


async def test_a_stale_row_left_by_a_dead_process_is_rebuilt(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    buy = {"side": "Buy", "execQty": "1", "execPrice": "100", "symbol": "ETHUSDT"}
    flaky = _SaveFailsOnce(ledger)
    dying = FillWriter(flaky)  # type: ignore[arg-type]
    await dying.write([make_fill(at=T0, **buy)])
    flaky.fail_next = True
    await dying.write([make_fill(at=T0 + timedelta(seconds=1), **buy)])  # row now stale: 1 of 2

    restarted = FillWriter(ledger.store)
    await restarted.write([make_fill(at=T0 + timedelta(seconds=2), **buy)])
    assert await _qty(ledger, "lxalgo_001", "ETHUSDT") == Decimal(3)
