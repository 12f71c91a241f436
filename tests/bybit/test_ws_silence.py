"""The read loop's silence watchdog: one timer per quiet period, not one per frame."""

from __future__ import annotations

import asyncio

import pytest

from alphadesk.adapters.bybit.ws import _Dropped, _Silence


async def test_frames_keep_the_socket_alive_past_the_timeout() -> None:
    with _Silence(0.05) as silence:  # a frame every 10 ms, for four timeouts' worth
        for _ in range(20):
            await asyncio.sleep(0.01)
            silence.heard()


async def test_a_quiet_socket_is_dropped() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def read() -> None:
        with _Silence(0.05) as silence:
            await asyncio.sleep(0.03)
            silence.heard()  # the deadline moves to 0.08 s
            await asyncio.sleep(5)

    with pytest.raises(_Dropped, match=r"silent for 0\.05 s"):
        await read()
    assert 0.07 <= loop.time() - started < 1.0


async def test_a_cancel_from_outside_stays_a_cancel() -> None:
    async def read() -> None:
        with _Silence(10):
            await asyncio.sleep(5)

    task = asyncio.create_task(read())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
