"""History pages fetched ahead of their decoding keep their order, errors and early stops."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from alphadesk.adapters.bybit.history import read_ahead


async def _pages(n: int, fail_at: int | None = None, log: list[int] | None = None
                 ) -> AsyncIterator[int]:
    for i in range(n):
        if i == fail_at:
            raise RuntimeError(f"page {i} failed")
        if log is not None:
            log.append(i)
        yield i


async def test_pages_come_in_order_and_all() -> None:
    assert [p async for p in read_ahead(_pages(7), 2)] == list(range(7))


async def test_an_error_reaches_the_consumer_after_the_pages_before_it() -> None:
    seen: list[int] = []

    async def consume() -> None:
        async for page in read_ahead(_pages(7, fail_at=3), 1):
            seen.append(page)

    with pytest.raises(RuntimeError, match="page 3 failed"):
        await consume()
    assert seen == [0, 1, 2]


async def test_a_consumer_that_stops_early_stops_the_fetching() -> None:
    fetched: list[int] = []
    async for page in read_ahead(_pages(100, log=fetched), 1):
        if page == 2:
            break
    assert len(fetched) <= 5  # at most the queue's depth past what was consumed, then stopped
