"""The one logging set-up of every ``alphadesk`` process, with a last line of defence against
leaked credentials.

Each line carries the time (UTC, ISO 8601 with milliseconds), the level and the logger's name, so
the listener's, the bots' and the simulator's output can be merged and read side by side. Secrets
are wrapped in :class:`~alphadesk.domain.secrets.Secret` everywhere, but a library may still echo
a header or a URL; the configured secret values are replaced in each formatted line (message,
exception and stack) before it reaches the stream.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TextIO

from alphadesk.domain.secrets import Secret

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
#: Shorter values are not redacted: replacing every "abc" in a log would hide more than it saves.
MIN_SECRET_LEN = 4
#: Loggers that write a line per request at INFO; shown only when DEBUG is asked for.
CHATTY = ("aiohttp.access",)


def secret_values(secrets: Iterable[Secret]) -> list[str]:
    """Longest first, so a secret that contains another is masked whole."""
    return sorted({s.reveal() for s in secrets if len(s.reveal()) >= MIN_SECRET_LEN},
                  key=len, reverse=True)


def redact(text: str, values: Iterable[str]) -> str:
    for value in values:
        text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks secret values in a record's message (for handlers that format on their own)."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        super().__init__()
        self._values = secret_values(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._values:
            return True
        message = record.getMessage()
        redacted = redact(message, self._values)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class DeskFormatter(logging.Formatter):
    """``2026-01-02T03:04:05.678Z LEVEL logger: message``, with secret values masked in the
    whole formatted line, exception text included."""

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        super().__init__(_FORMAT)
        self._values = secret_values(secrets)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._values)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time, so a replaced stderr (a test's capture,
    a daemon's redirection) is followed instead of writing to a closed stream."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure(level: str = "INFO", secrets: Iterable[Secret] = ()) -> None:
    """Install the desk's handler on the root logger (again: replacing the previous one, and
    leaving handlers others installed, such as a test runner's, in place). Python warnings are
    routed through it too, so they carry a time and a level like every other line."""
    secrets = tuple(secrets)
    handler = _StderrHandler()
    handler.setFormatter(DeskFormatter(secrets))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, _StderrHandler)]
    root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    logging.captureWarnings(True)


@contextlib.contextmanager
def installed(level: str = "INFO", secrets: Iterable[Secret] = ()) -> Iterator[None]:
    """:func:`configure` for the length of a command, then the previous state back: a command
    run in-process (a test) leaves the logging of the process it ran in as it found it."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers),
             {name: logging.getLogger(name).level for name in CHATTY})
    configure(level, secrets)
    try:
        yield
    finally:
        logging.captureWarnings(False)
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, chatty_level in saved[2].items():
            logging.getLogger(name).setLevel(chatty_level)
