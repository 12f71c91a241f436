"""The dead-letter store: the JSONL file and its in-memory twin behave alike (put, read back
exactly, count), and the file is durable, one line per letter, and survives a torn last line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alphadesk.adapters.memory.dead_letters import MemoryDeadLetters
from alphadesk.adapters.spool.dead_letters import DeadLetterCorrupt, JsonlDeadLetters
from alphadesk.domain.dead_letters import DeadLetter
from alphadesk.engine.state_ports import DeadLetterStore

AT = datetime(2025, 11, 7, 1, 55, 5, 908123, tzinfo=UTC)
HOSTILE_RAW = '{"execId":"a\x00b","symbol":"BTC:USDT","note":"\u2028😀é\x1b[31m\\u0000"}'


def letter(n: int, raw: str = '{"execId":"x"}', **fields: str) -> DeadLetter:
    return DeadLetter(
        source=fields.get("source", "ws:execution"),
        reason=fields.get("reason", f"execution.execPrice='1e400': bad {n}"),
        raw=raw,
        at=AT,
        venue="bybit",
        account="acct1",
    )


@pytest.fixture(params=["jsonl", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeadLetterStore]:
    if request.param == "jsonl":
        yield JsonlDeadLetters.beside(tmp_path / "spool")
    else:
        yield MemoryDeadLetters()


def test_letters_read_back_exactly_in_order(store: DeadLetterStore) -> None:
    assert store.read() == [] and store.count() == 0
    first = [letter(1), letter(2, HOSTILE_RAW)]
    store.put(first)
    store.put([])
    store.put([letter(3, raw="")])
    back = store.read()
    assert back == [*first, letter(3, raw="")]
    assert back[1].raw == HOSTILE_RAW  # NUL, control characters and any unicode kept
    assert back[0].at == AT and back[0].at.tzinfo is not None
    assert store.count() == 3


def test_a_surrogate_half_survives(store: DeadLetterStore) -> None:
    lone = '{"execId":"\ud800"}'  # what a decoder leaves of a broken escape
    store.put([letter(1, lone)])
    assert store.read()[0].raw == lone


def test_the_file_is_one_ascii_line_per_letter_and_durable(tmp_path: Path) -> None:
    store = JsonlDeadLetters.beside(tmp_path)
    store.put([letter(1, HOSTILE_RAW), letter(2)])
    path = tmp_path / "dead_letters.jsonl"
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3
    assert all(line.isascii() for line in lines)
    assert json.loads(lines[0])["raw"] == HOSTILE_RAW
    reopened = JsonlDeadLetters(path)  # a new process reads what the last one wrote
    assert reopened.count() == 2 and reopened.read()[0].raw == HOSTILE_RAW


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_put(tmp_path: Path) -> None:
    path = tmp_path / "dead_letters.jsonl"
    JsonlDeadLetters(path).put([letter(1)])
    with path.open("ab") as handle:
        handle.write(b'{"v":1,"at":"2025-11-07T01:5')  # the process died mid-append
    store = JsonlDeadLetters(path)
    assert store.read() == [letter(1)] and store.count() == 1
    store.put([letter(2)])
    assert JsonlDeadLetters(path).read() == [letter(1), letter(2)]


def test_damage_before_the_tail_is_named(tmp_path: Path) -> None:
    path = tmp_path / "dead_letters.jsonl"
    JsonlDeadLetters(path).put([letter(1)])
    with path.open("ab") as handle:
        handle.write(b"not json\n")
    JsonlDeadLetters(path).put([letter(2)])
    with pytest.raises(DeadLetterCorrupt, match=r"dead_letters.jsonl:2"):
        JsonlDeadLetters(path).read()


def test_the_memory_store_refuses_what_is_not_a_letter() -> None:
    with pytest.raises(TypeError, match="DeadLetter"):
        MemoryDeadLetters().put(["raw row"])  # type: ignore[list-item]
