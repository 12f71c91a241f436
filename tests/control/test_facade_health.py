"""``/health`` and the listener line of ``/status``: the listener's health snapshot (as the
running listener writes it), the sync's recent windows, the command streams, and a bus that is
down reported as a problem, never as a crash."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.storage.listener_health import ListenerHealthFile
from alphadesk.adapters.storage.sync_status import open_sync_status
from alphadesk.engine.health import HealthBook

from .conftest import Desk
from .control_support import LX, NOW, SS, control_over, seed


def _snapshot(path: Path, *, lxalgo_up: bool) -> None:
    book = HealthBook(["shortseller", "lxalgo"], clock=lambda: NOW - timedelta(seconds=5))
    book.connected("shortseller", True)
    book.message("shortseller", exec_time=NOW - timedelta(minutes=1))
    book.connected("lxalgo", lxalgo_up)
    path.write_text(book.report(0, {"inserted": 7}, dead_letters=2).to_json())


async def test_health_reads_the_listener_sync_and_command_streams(
    desk: Desk, tmp_path: Path
) -> None:
    await seed(desk.url)
    sync = await open_sync_status(desk.url)
    try:
        done = await sync.begin(SS, "hourly", NOW - timedelta(hours=2), NOW - timedelta(hours=1),
                                NOW - timedelta(minutes=30))  # fmt: skip
        await sync.finish(done, status="completed", added=3, error=None,
                          at=NOW - timedelta(minutes=29), duration_s=60.0)  # fmt: skip
        bad = await sync.begin(SS, "hourly", NOW - timedelta(hours=1), NOW,
                               NOW - timedelta(minutes=10))  # fmt: skip
        await sync.finish(bad, status="failed", added=0, error="10006 rate limit",
                          at=NOW - timedelta(minutes=9), duration_s=5.0)  # fmt: skip
    finally:
        await sync.close()
    health_file = tmp_path / "listener-health.json"
    _snapshot(health_file, lxalgo_up=True)
    source = ListenerHealthFile(health_file)
    async with control_over(desk.url, desk.state, health_source=source) as control:
        await control.halt(LX, actor="cli:owner")
        view = await control.health()
        assert view.listener is not None and view.listener.healthy
        assert view.listener.age_s == 5.0 and view.dead_letters == 2
        assert [a.account for a in view.listener.accounts] == ["lxalgo", "shortseller"]
        assert view.bus_ok and [(q.bot_id, q.length, q.pending) for q in view.commands] == [
            (LX, 1, 0), (SS, 0, 0),
        ]  # fmt: skip
        sync_lines = dict(view.sync)
        assert sync_lines[SS].last_sync == NOW - timedelta(minutes=29)
        assert sync_lines[SS].covered_until == NOW - timedelta(hours=1)
        assert (sync_lines[SS].recent_errors, sync_lines[SS].last_error) == (1, "10006 rate limit")
        assert not view.healthy
        assert view.problems == (
            "shortseller_001: sync failed 1 of the last windows (10006 rate limit)",
        )
        (ss_line,) = [b for b in (await control.status()).bots if b.bot_id == SS]
        assert ss_line.sync.recent_errors == 1

        _snapshot(health_file, lxalgo_up=False)  # the listener lost an account
        status = await control.status()
        assert status.listener is not None and not status.listener.healthy
        assert "lxalgo: disconnected" in status.listener.problems

    later = control_over(desk.url, desk.state, health_source=source,
                         clock=lambda: NOW + timedelta(minutes=10))  # fmt: skip
    async with later as control:  # a snapshot nobody refreshed: the listener is not running
        listener = (await control.health()).listener
        assert listener is not None and not listener.healthy
        assert any("health snapshot is 605 s old" in p for p in listener.problems)


async def test_a_bus_that_is_down_is_a_problem_not_a_crash(desk: Desk) -> None:
    await seed(desk.url)
    down = RedisState.from_url("redis://127.0.0.1:1/0")  # nothing listens on port 1
    state = SimpleNamespace(positions=desk.state.positions, market=desk.state.market,
                            bots=desk.state.bots, bus=down.bus)  # fmt: skip
    try:
        async with control_over(desk.url, state) as control:
            view = await control.health()
            assert not view.bus_ok and not view.healthy
            assert "event bus unreachable" in view.problems[-1]
            assert view.commands == ()
    finally:
        await down.aclose()
