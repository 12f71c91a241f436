"""The one logging set-up of every ``alphadesk`` process, with a last line of defence against
leaked credentials.

Each line carries the time (UTC, ISO 8601 with milliseconds), the level and the logger's name, so
the listener's, the bots' and the simulator's output can be merged and read side by side. Secrets
are wrapped in :class:`~alphadesk.domain.secrets.Secret` everywhere, but a library may still echo
a header or a URL; the configured secret values are replaced in each formatted line (message,
exception and stack) before it reaches the stream.

Two shapes of the same line: readable text on a terminal, one JSON object per line elsewhere (a
container's log driver, a file, a log shipper), so a machine never has to parse free text
(``LOG_FORMAT=auto|json|text``). ``LOG_FILE`` adds a size-rotated file (JSON unless text is asked
for): a service run outside a container keeps a bounded history on disk. The JSON is written here
with :func:`json.dumps` (time, level, logger, message, exception, the record's ``extra`` fields):
a library would add a dependency for a dozen lines and still need the redaction below.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import math
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from alphadesk.domain.secrets import Secret

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
#: Shorter values are not redacted: replacing every "abc" in a log would hide more than it saves.
MIN_SECRET_LEN = 4
#: Loggers that write a line per request at INFO; shown only when DEBUG is asked for.
CHATTY = ("aiohttp.access",)
FORMATS = ("auto", "json", "text")
#: What a command made for a person at a terminal (a report, a demo, a download) logs in when
#: ``LOG_FORMAT`` is not set, even when its output goes to a file or a pipe: its log lines sit
#: between the lines of its report, where JSON would be noise. Services keep ``auto``.
HUMAN = "text"
#: A rotated log file's default size and how many rotated files are kept beside it.
FILE_MAX_BYTES = 50 * 1024 * 1024
FILE_KEEP = 5
#: A LogRecord's own attributes; anything else on a record came from ``extra=`` and is data.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName",
}


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


def _utc_iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, then ``exc`` (the
    traceback text) and ``stack`` when present, then the record's ``extra`` fields (not
    JSON-typed values as their ``str``). Every string is masked before it is encoded, and the
    encoded line once more (a secret split by JSON escaping stays caught either way)."""

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        super().__init__()
        self._values = secret_values(secrets)

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": _utc_iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_") and key not in doc:
                plain = isinstance(value, int | bool | None) or (
                    isinstance(value, float) and math.isfinite(value))
                doc[key] = value if plain else str(value)  # NaN is not JSON
        for key, value in doc.items():
            if isinstance(value, str):
                doc[key] = redact(value, self._values)
        return redact(json.dumps(doc, ensure_ascii=False), self._values)


def wants_json(log_format: str, stream: TextIO | None = None) -> bool:
    """``auto`` is JSON unless the stream is a terminal."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT={log_format!r}: expected auto, json or text")
    if log_format != "auto":
        return log_format == "json"
    stream = sys.stderr if stream is None else stream
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return True


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


class _FileHandler(logging.handlers.RotatingFileHandler):
    """The desk's rotating file (a class of its own so :func:`configure` can find and replace
    it)."""


def configure(
    level: str = "INFO",
    secrets: Iterable[Secret] = (),
    *,
    log_format: str = "auto",
    log_file: Path | None = None,
    file_max_bytes: int = FILE_MAX_BYTES,
    file_keep: int = FILE_KEEP,
) -> None:
    """Install the desk's handler on the root logger (again: replacing the previous one, and
    leaving handlers others installed, such as a test runner's, in place). Python warnings are
    routed through it too, so they carry a time and a level like every other line. With
    ``log_file`` a second handler writes to it, rotated at ``file_max_bytes`` with ``file_keep``
    old files (``app.log.1`` …)."""
    secrets = tuple(secrets)

    def formatter(json_lines: bool) -> logging.Formatter:
        return JsonFormatter(secrets) if json_lines else DeskFormatter(secrets)

    handler = _StderrHandler()
    handler.setFormatter(formatter(wants_json(log_format)))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler | _FileHandler)]:
        root.removeHandler(old)
        if isinstance(old, _FileHandler):
            old.close()
    root.addHandler(handler)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = _FileHandler(log_file, maxBytes=file_max_bytes, backupCount=file_keep,
                               encoding="utf-8")
        to_file.setFormatter(formatter(log_format != "text"))
        to_file.addFilter(RedactingFilter(secrets))
        root.addHandler(to_file)
    root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    logging.captureWarnings(True)


@contextlib.contextmanager
def installed(
    level: str = "INFO", secrets: Iterable[Secret] = (), **options: Any
) -> Iterator[None]:
    """:func:`configure` for the length of a command, then the previous state back: a command
    run in-process (a test) leaves the logging of the process it ran in as it found it."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers),
             {name: logging.getLogger(name).level for name in CHATTY})
    configure(level, secrets, **options)
    try:
        yield
    finally:
        logging.captureWarnings(False)
        for handler in root.handlers:
            if isinstance(handler, _FileHandler) and handler not in saved[1]:
                handler.close()
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, chatty_level in saved[2].items():
            logging.getLogger(name).setLevel(chatty_level)
