"""The ports a sweep runs through: where backtests execute and where their outcomes are kept."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from alphadesk.sweep.task import Outcome, Task


class Executor(Protocol):
    """Runs tasks next to the sweep's market data; yields outcomes as they finish (any order)."""

    @property
    def workers(self) -> int: ...

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


class ResultLog(Protocol):
    """Outcomes by task key; one added is kept even if the sweep is stopped right after."""

    def get(self, key: str) -> Outcome | None: ...

    def add(self, task: Task, outcome: Outcome) -> None: ...
