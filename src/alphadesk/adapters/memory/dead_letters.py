"""The dead-letter store in process: the embedded mode's and the tests' twin of the JSONL file."""

from __future__ import annotations

from collections.abc import Sequence

from alphadesk.domain.dead_letters import DeadLetter


class MemoryDeadLetters:
    """:class:`~alphadesk.engine.state_ports.DeadLetterStore` in a list (append-only)."""

    def __init__(self) -> None:
        self._letters: list[DeadLetter] = []

    def put(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            if not isinstance(letter, DeadLetter):
                raise TypeError(f"dead letter must be DeadLetter, not {type(letter).__name__}")
        self._letters.extend(letters)

    def read(self) -> list[DeadLetter]:
        return list(self._letters)

    def count(self) -> int:
        return len(self._letters)
