"""The dead-letter store on disk: one JSON object per line, appended and fsynced.

Dead letters are rare and must outlive the process (the owner reads them back to repair or
replay the rows), so a plain append-only JSONL file beside the fill spool is enough: ``put``
returns only once its lines are on disk. Every character of ``raw`` (NULs, any unicode, lone
surrogates) is JSON-escaped, so a line is always one line of ASCII. A crash mid-append leaves a
torn last line: ``read`` ignores it and the next ``put`` cuts it off before appending.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from alphadesk.domain.dead_letters import DeadLetter

FORMAT = 1
FILE_NAME = "dead_letters.jsonl"


class DeadLetterCorrupt(ValueError):
    """A complete line that is not a dead letter (damage before the tail): refuse, name it."""


def encode_letter(letter: DeadLetter) -> bytes:
    data = {
        "v": FORMAT,
        "at": letter.at.isoformat(),
        "source": letter.source,
        "venue": letter.venue,
        "account": letter.account,
        "reason": letter.reason,
        "raw": letter.raw,
    }
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def decode_letter(line: bytes, where: str) -> DeadLetter:
    try:
        data: Any = json.loads(line)
        if not isinstance(data, dict) or data.get("v") != FORMAT:
            raise ValueError(f"not a format-{FORMAT} dead letter")
        at = datetime.fromisoformat(data["at"])  # written aware; DeadLetter refuses others
        return DeadLetter(
            source=data["source"], reason=data["reason"], raw=data["raw"], at=at,
            venue=data.get("venue", ""), account=data.get("account", ""),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError) as exc:
        raise DeadLetterCorrupt(f"{where}: unreadable dead letter: {exc}") from None


class JsonlDeadLetters:
    """:class:`~alphadesk.engine.state_ports.DeadLetterStore` on one JSONL file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # put runs in worker threads
        self._count: int | None = None
        self._checked_tail = False

    @classmethod
    def beside(cls, spool_dir: Path) -> JsonlDeadLetters:
        """The store that lives next to a fill spool: ``<spool_dir>/dead_letters.jsonl``."""
        return cls(Path(spool_dir) / FILE_NAME)

    def put(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        data = b"".join(encode_letter(letter) for letter in letters)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self._checked_tail:
                self._cut_torn_tail()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            if self._count is not None:
                self._count += len(letters)

    def read(self) -> list[DeadLetter]:
        letters = [
            decode_letter(line, f"{self.path}:{number}")
            for number, line in enumerate(self._lines(), start=1)
        ]
        with self._lock:
            self._count = len(letters)
        return letters

    def count(self) -> int:
        with self._lock:
            if self._count is None:
                self._count = len(self._lines())
            return self._count

    def _lines(self) -> list[bytes]:
        """The complete lines (a torn last line, without its newline, is not one)."""
        try:
            content = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return [line for line in content.split(b"\n")[:-1] if line]

    def _cut_torn_tail(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            self._checked_tail = True
            return
        if size:
            with self.path.open("rb+") as handle:
                handle.seek(max(size - 1, 0))
                if handle.read(1) != b"\n":
                    content = self.path.read_bytes()
                    handle.truncate(content.rfind(b"\n") + 1)
                    handle.flush()
                    os.fsync(handle.fileno())
        self._checked_tail = True
