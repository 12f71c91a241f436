"""What the desk's state implies, turned into alerts once per episode (pure, driven clock), and
the same through the real control facade over the seeded ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from alphadesk.adapters.telegram.watch import DeskWatch
from alphadesk.engine.control_views import (
    BotStatusLine,
    DeskStatus,
    ListenerAccount,
    ListenerLine,
    SyncLine,
)
from alphadesk.strategies.api import TradingState
from control.control_support import LX, SS, control_over, seed

from .conftest import Ledger

AT = datetime(2026, 1, 5, tzinfo=UTC)


def desk(states: dict[str, TradingState | None], *, connected: bool = True, age_s: float = 2,
         spool: int = 0) -> DeskStatus:  # fmt: skip
    bots = tuple(
        BotStatusLine(bot, bot.split("_")[0], "demo", "active", state, 1.0, True, 0, None,
                      SyncLine(None, None, 0, ""))
        for bot, state in states.items()
    )
    listener = ListenerLine(AT, age_s, connected, (),
                            (ListenerAccount("lxalgo", connected, 1.0, None, 0),),
                            spool, 0)  # fmt: skip
    return DeskStatus(AT, bots, listener, 0, Decimal(0), len(bots))


def test_a_kill_switch_trip_is_told_once_and_its_end_too() -> None:
    watch = DeskWatch()
    active = {"a_001": TradingState.ACTIVE, "b_001": TradingState.HALTED}
    assert watch.observe(desk(active), 0) == []  # first sight: no history, no alert
    tripped = {"a_001": TradingState.HALTED, "b_001": TradingState.HALTED}
    assert watch.observe(desk(tripped), 15) == ["⚠ KILL SWITCH tripped: a_001 ACTIVE -> HALTED"]
    assert watch.observe(desk(tripped), 30) == []
    back = {"a_001": TradingState.ACTIVE, "b_001": TradingState.HALTED}
    assert watch.observe(desk(back), 45) == ["a_001 is ACTIVE again"]


def test_a_listener_account_down_for_a_minute_is_told_once() -> None:
    watch = DeskWatch()
    assert watch.observe(desk({}, connected=False), 0) == []
    assert watch.observe(desk({}, connected=False), 59) == []
    assert watch.observe(desk({}, connected=False), 60) == [
        "⚠ LISTENER disconnected lxalgo: for 60 s"]
    assert watch.observe(desk({}, connected=False), 75) == []
    assert watch.observe(desk({}), 90) == ["listener lxalgo: reconnected"]
    # a short blip is not worth a message
    assert watch.observe(desk({}, connected=False), 100) == []
    assert watch.observe(desk({}), 130) == []


def test_a_silent_listener_and_a_growing_spool() -> None:
    watch = DeskWatch()
    assert watch.observe(desk({}, age_s=75), 0) == [
        "⚠ LISTENER disconnected: no health report for 75 s (is the listener running?)"]
    assert watch.observe(desk({}, age_s=90), 15) == []
    assert watch.observe(desk({}, spool=3), 30) == [
        "listener reporting again",
        "⚠ SPOOL growing (database unreachable?): 3 fills waiting for the ledger"]
    assert watch.observe(desk({}, spool=40), 45) == []
    assert watch.observe(desk({}, spool=0), 60) == [
        "spool drained: every waiting fill is in the ledger"]


async def test_the_facades_status_drives_the_watch(ledger: Ledger) -> None:
    """A bot's status word in the live state (what a bot writes when its switch trips) reaches
    the watch through the real facade."""
    await seed(ledger.url)
    watch = DeskWatch()
    async with control_over(ledger.url, ledger.state) as control:
        assert watch.observe(await control.status(), 0) == []
        await ledger.state.bots.set_status(SS, "halted")
        assert watch.observe(await control.status(), 15) == [
            f"⚠ KILL SWITCH tripped: {SS} ACTIVE -> HALTED"]
        await ledger.state.bots.set_status(LX, "reducing")
        assert watch.observe(await control.status(), 30) == [
            f"⚠ KILL SWITCH tripped: {LX} stopped -> REDUCING"]
