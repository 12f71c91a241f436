"""``alphadesk trades rebuild|list`` on a seeded SQLite ledger (fills recorded without a keeper,
as an older desk or another path would have left them)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.sqlite import SqliteLedger
from alphadesk.app.cli import main
from alphadesk.app.commands.trades import held
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.roundtrips import match
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.recorder import FillRecorder

T0 = datetime(2025, 5, 3, 8, 0, tzinfo=UTC)
D = Decimal


def _fill(n: int, bot: str, side: str, price: str, qty: str, minutes: int, *,
          reason: str = "", funding: bool = False) -> Fill:  # fmt: skip
    notional = D(price) * D(qty)
    return Fill(
        venue="bybit", account=f"acct-{bot}", exec_id=f"x-{bot}-{n}", bot_id=bot,
        symbol="BTCUSDT", side=Side(side), price=D(price), qty=D(qty),
        fee=D("0.31") if funding else (notional * D("0.00055")).quantize(D("0.00000001")),
        exec_time=T0 + timedelta(minutes=minutes),
        exec_type=ExecType.FUNDING if funding else ExecType.TRADE,
        order_id=f"o-{bot}-{n}", close_reason=reason,
    )  # fmt: skip


FILLS = [
    _fill(1, "lxalgo_001", "Buy", "95000", "0.2", 0, reason="entry"),
    _fill(2, "lxalgo_001", "Buy", "95000", "0.2", 480, funding=True),
    _fill(3, "lxalgo_001", "Sell", "95500.5", "0.2", 485, reason="take_profit"),
    _fill(4, "momentum_001", "Sell", "96000", "0.01", 10, reason="entry"),
    _fill(5, "momentum_001", "Buy", "95000", "0.01", 70, reason="manual"),
]


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "ledger.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)

    async def seed() -> None:
        store = await SqliteLedger.connect(path)
        try:
            await FillRecorder(FillWriter(store)).record(FILLS)
        finally:
            await store.close()

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_rebuild_then_list(ledger_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trades", "list"]) == 0
    assert "no round trips" in capsys.readouterr().out
    assert main(["trades", "rebuild", "--bot", "lxalgo_001"]) == 0
    out = capsys.readouterr().out
    assert "matched 1/1 lxalgo_001/BTCUSDT: 1 round trips" in out
    assert out.rstrip().endswith("rebuilt 1 round trips of bot lxalgo_001 from 3 fills "
                                 "(1 bot/symbol keys)")  # fmt: skip
    assert main(["trades", "rebuild"]) == 0
    assert "rebuilt 2 round trips of every bot from 5 fills" in capsys.readouterr().out

    async def stored() -> list[tuple[str, Decimal]]:
        trips = await open_round_trips(ledger_url)
        try:
            return [(t.trade_id, t.net_pnl) for t in await trips.list_round_trips()]
        finally:
            await trips.close()

    want = [match("momentum_001", "BTCUSDT", FILLS[3:]), match("lxalgo_001", "BTCUSDT", FILLS[:3])]
    assert sorted(asyncio.run(stored())) == sorted((t.trade_id, t.net_pnl) for w in want for t in w)

    assert main(["trades", "list", "-n", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # the header and the newest round trip
    header, row = lines
    assert header.split()[:3] == ["entry", "time", "exit"]
    # 0.2 * 500.5 gross; fees 10.45 + 10.505055; funding 0.31 -> net 78.834945
    assert row.split()[4:] == ["lxalgo_001", "BTCUSDT", "long", "0.2", "95000", "95500.5",
                               "100.1", "20.955055", "0.31", "78.834945", "8h05m",
                               "take_profit"]  # fmt: skip
    assert header.index("net") + len("net") == row.index("78.834945") + len("78.834945")

    assert main(["trades", "list", "--bot", "momentum_001"]) == 0
    (_, manual) = capsys.readouterr().out.splitlines()
    assert manual.split()[6] == "short" and manual.split()[-2:] == ["1h00m", "manual"]


def test_bad_row_count_names_the_flag(ledger_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["trades", "list", "-n", "zero"])
    assert exit_.value.code == 2
    assert "-n='zero': must be an integer in [1, 100000]" in capsys.readouterr().err


def test_held() -> None:
    assert [held(s) for s in (7, 307, 14_700, 273_900)] == ["7s", "5m07s", "4h05m", "3d04h05m"]
