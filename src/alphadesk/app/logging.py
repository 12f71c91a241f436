"""Logging set-up with a last line of defence against leaked credentials.

Secrets are wrapped in :class:`~alphadesk.domain.secrets.Secret` everywhere, but a library may
still echo a header or a URL; the redacting filter replaces any configured secret value found in
a formatted record before it reaches a handler.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable

from alphadesk.domain.secrets import Secret

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[Secret]) -> None:
        super().__init__()
        self._values = sorted({s.reveal() for s in secrets if len(s.reveal()) >= 4}, key=len)[::-1]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._values:
            return True
        message = record.getMessage()
        redacted = message
        for value in self._values:
            redacted = redacted.replace(value, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure(level: str = "INFO", secrets: Iterable[Secret] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
