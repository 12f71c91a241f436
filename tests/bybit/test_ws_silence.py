"""The read loop's silence watchdog: one timer per quiet period, not one per frame.

Time is the test's: the watchdog reads a clock the test moves, and the test plays the timer
(``check``) at the moment it chose, so a busy machine cannot make a frame late or early.
"""

from __future__ import annotations

import asyncio

import pytest

from alphadesk.adapters.bybit.ws import _Dropped, _Silence


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _watched(clock: Clock, seconds: float) -> tuple[asyncio.Task[None], _Silence]:
    """A reading task under a watchdog, waiting for frames that never come."""
    entered: asyncio.Future[_Silence] = asyncio.get_running_loop().create_future()

    async def read() -> None:
        with _Silence(seconds, clock) as silence:
            entered.set_result(silence)
            await asyncio.Event().wait()

    task = asyncio.create_task(read())
    return task, await entered


async def test_frames_keep_the_socket_alive_past_the_timeout() -> None:
    clock = Clock()
    task, silence = await _watched(clock, 45)
    for _ in range(20):  # a frame every 10 s for four timeouts' worth, the timer firing after each
        clock.now += 10
        silence.heard()
        silence.check()
    await asyncio.sleep(0)  # a cancel, had there been one, is delivered at the task's next step
    assert not task.done()
    clock.now += 44.9
    silence.check()
    await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_quiet_socket_is_dropped() -> None:
    clock = Clock()
    task, silence = await _watched(clock, 45)
    clock.now += 30
    silence.heard()  # the deadline moves to 75 s after the start
    clock.now += 44
    silence.check()  # 74 s: not yet
    await asyncio.sleep(0)
    assert not task.done()
    clock.now += 1
    silence.check()
    with pytest.raises(_Dropped, match=r"silent for 45 s"):
        await task


async def test_the_timer_fires_on_the_real_clock() -> None:
    """With the default (the loop's) clock, nothing but the timer drops a silent socket."""

    async def read() -> None:
        with _Silence(0.01):
            await asyncio.Event().wait()

    with pytest.raises(_Dropped, match=r"silent for 0\.01 s"):
        await asyncio.wait_for(read(), 30)  # a generous bound on a wait that must end


async def test_a_cancel_from_outside_stays_a_cancel() -> None:
    clock = Clock()
    task, _silence = await _watched(clock, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
