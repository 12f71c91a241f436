"""Waiting on a condition, never on a guessed duration: the suite's one polling loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def eventually(check: Callable[[], Any], within_s: float = 10.0,
                     what: str | Callable[[], str] = "") -> Any:
    """Re-check ``check`` (sync or async) every 50 ms until it is true, and return that true
    result; fail after ``within_s`` (a generous bound, not a claim about speed), naming ``what``
    was awaited when given (a callable is asked at the failure, to say what it saw last)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"not within {within_s} s: {said or 'the condition'}")
        await asyncio.sleep(0.05)
