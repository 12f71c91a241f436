"""Spool record framing: ``LLLLLLLL CCCCCCCC <json>\\n``.

Eight hex digits of payload length, eight of the payload's CRC32, the JSON, a newline. The
length says where a record must end and the CRC says whether what is there is what was written,
so a record torn by a kill mid-write is told apart from a whole one; the text header and the
newline keep segment files readable with ``less`` and ``grep`` during an incident.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import BinaryIO

HEADER_LEN = 18  # "%08x %08x "
MAX_PAYLOAD = 0xFFFF_FFFF


def frame(payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"spool record of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return b"%08x %08x " % (len(payload), zlib.crc32(payload)) + payload + b"\n"


@dataclass(frozen=True, slots=True)
class Record:
    offset: int
    end: int
    payload: bytes


class BadRecord(Exception):
    """What is at ``offset`` is not a whole, intact record."""

    def __init__(self, offset: int, reason: str) -> None:
        self.offset = offset
        self.reason = reason
        super().__init__(f"bad record at byte {offset}: {reason}")


def read_record(stream: BinaryIO, offset: int, limit: int) -> Record | None:
    """The record at ``offset`` (the stream is positioned there), None at ``limit``.

    Raises :class:`BadRecord` for a short, malformed or CRC-failing record.
    """
    if offset >= limit:
        return None
    header = stream.read(HEADER_LEN)
    if len(header) < HEADER_LEN or offset + HEADER_LEN > limit:
        raise BadRecord(offset, f"header cut short ({min(len(header), limit - offset)} bytes)")
    try:
        if header[8:9] != b" " or header[17:18] != b" ":
            raise ValueError("separators")
        length, crc = int(header[0:8], 16), int(header[9:17], 16)
    except ValueError:
        raise BadRecord(offset, f"malformed header {header!r}") from None
    end = offset + HEADER_LEN + length + 1
    body = stream.read(length + 1)
    if len(body) < length + 1 or end > limit:
        raise BadRecord(offset, f"payload cut short (want {length + 1} bytes)")
    payload = body[:length]
    if body[length:] != b"\n":
        raise BadRecord(offset, "missing record terminator")
    if zlib.crc32(payload) != crc:
        raise BadRecord(offset, "CRC32 mismatch")
    return Record(offset, end, payload)
