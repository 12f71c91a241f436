"""``alphadesk control``: the facade from a terminal over the seeded ledger; commands audited and
published, ``flatten`` only with ``--yes``, an unknown bot a clear error with exit status 2."""

from __future__ import annotations

import asyncio

import pytest

from alphadesk.adapters.storage.control_audit import open_audit
from alphadesk.app import cli

from .conftest import Desk
from .control_support import LX, SS, seed


def _row(out: str, first: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.startswith(first))


@pytest.fixture
def run_cli(desk: Desk, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", desk.url)
    if desk.redis_url:
        monkeypatch.setenv("REDIS_URL", desk.redis_url)
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)

    async def run(*argv: str) -> tuple[int, str, str]:
        args = ["control", *argv, "--namespace", desk.namespace]
        code = await asyncio.to_thread(cli.main, args)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


async def test_reads_print_the_ledgers_figures(desk: Desk, run_cli) -> None:  # type: ignore[no-untyped-def]
    await seed(desk.url)
    code, out, _ = await run_cli("analytics")
    assert code == 0
    assert ("total fills 7, volume 855 USDT, win rate 66.7% (2/3 round trips), net PnL 19.7, "
            "fees 0.355") in out  # fmt: skip
    assert _row(out, SS) == [SS, "shortseller", "5", "435", "2", "-0.3"]
    assert _row(out, LX) == [LX, "lxalgo", "2", "420", "1", "20"]
    code, out, _ = await run_cli("status")
    assert code == 0 and "desk: 2 bots" in out and "equity 15024.5" in out
    code, out, _ = await run_cli("positions", "--bot", "shortseller")
    assert code == 0
    # no live state nor mark here: the ledger's projection, uPnL unknown (0), notional at entry
    assert _row(out, SS) == [SS, "BTCUSDT", "short", "0.5", "110", "-", "0", "55", "ledger"]
    code, out, _ = await run_cli("pnl", "monthly", "--rows", "24")
    assert code == 0 and "2025-11-01" in out
    assert _row(out, "total") == ["total", "3", "2/1", "20", "0.3", "0", "19.7"]
    code, out, _ = await run_cli("trades", "--bot", LX, "-n", "5")
    assert code == 0 and "SOLUSDT" in out and "ETHUSDT" not in out


async def _audited(url: str) -> list[tuple[str, str, str]]:
    audit = await open_audit(url)
    try:
        return sorted((e.bot_id, e.command, e.outcome) for e in await audit.recent())
    finally:
        await audit.close()


async def test_commands_from_the_terminal_are_audited(desk: Desk, run_cli) -> None:  # type: ignore[no-untyped-def]
    await seed(desk.url)
    if desk.redis_url is None:  # no shared bus: refused (and audited), never sent into the void
        code, _, err = await run_cli("halt", "lxalgo")
        assert code == 2 and "REDIS_URL is not set: commands reach bots" in err
        ((bot, command, outcome),) = await _audited(desk.url)
        assert (bot, command) == (LX, "halt") and outcome.startswith("refused: REDIS_URL")
        return
    code, out, _ = await run_cli("halt", "lxalgo")
    assert code == 0
    assert "control: halt lxalgo_001 published" in out and "applies it when it starts" in out
    code, out, _ = await run_cli("flatten", SS)
    assert code == 2 and "--yes" in out
    code, out, _ = await run_cli("flatten", SS, "--yes")
    assert code == 0 and "control: flatten shortseller_001 published" in out
    code, _, err = await run_cli("resume", "ghost")
    assert code == 2
    assert "bot='ghost': is not a known bot (known: lxalgo_001, shortseller_001)" in err
    assert await _audited(desk.url) == [
        ("ghost", "resume", "refused: is not a known bot (known: lxalgo_001, shortseller_001)"),
        (LX, "halt", "published"),
        (SS, "flatten", "published"),
    ]
    code, out, _ = await run_cli("audit")
    assert code == 0 and out.count("cli:") == 3
