"""What the commands' progress displays share: a ``rich`` display on a terminal, started when
the ``with`` block begins and stopped when it ends (on an error too, so the terminal is left
clean); off a terminal nothing is started and the display prints plain lines instead.

Used by ``data download`` (:mod:`alphadesk.app.data_progress`), ``sync``
(:mod:`alphadesk.app.sync_progress`) and ``demo`` (:mod:`alphadesk.app.demo.progress`).
"""

from __future__ import annotations

from types import TracebackType
from typing import Generic, Self, TextIO, TypeVar

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn

Shown = TypeVar("Shown", Progress, Live)


class TerminalDisplay(Generic[Shown]):
    """A context manager; a subclass says what it shows on a terminal (:meth:`_build`)."""

    def __init__(self, stream: TextIO, on_terminal: bool) -> None:
        self._stream = stream
        self._tty = on_terminal
        self._shown: Shown | None = None
        """What is on the terminal while the ``with`` block runs; None off a terminal."""

    def _build(self) -> Shown:
        raise NotImplementedError

    def __enter__(self) -> Self:
        if self._tty:
            self._shown = self._build()
            self._shown.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._shown is not None:
            self._shown.stop()


def bars(stream: TextIO, *columns: ProgressColumn) -> Progress:
    """The commands' bars: each task's name in bold, its bar and done of total, then
    ``columns``; they stay on the terminal when done."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    *columns, console=Console(file=stream), transient=False)
