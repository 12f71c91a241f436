"""One logging set-up for every ``alphadesk`` process: UTC ISO time, level, logger name, and no
secret from the environment in any line; JSON lines off a terminal, text on one, a rotated file
with ``LOG_FILE``; checked in real simulator and listener processes."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.handlers
import os
import re
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alphadesk.adapters.storage import migrate
from alphadesk.app import logging as desk_logging
from alphadesk.domain.secrets import Secret
from alphadesk.simulator import SimAccount, run_simulator

BTC_5M = "BTCUSDT_5m_bybit-perp-20250924-20251122"
LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) (?P<name>[\w.]+): "
)
KEY, SECRET = "LOGTESTKEY0123", "log-test-secret-0123456789"
DB_PASSWORD = "db-password-0123456789"


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("alphadesk.test", logging.WARNING, __file__, 1, message, args,
                             exc_info)


def test_a_line_has_utc_iso_time_level_and_logger_name() -> None:
    line = desk_logging.DeskFormatter().format(record("hello %s", "world"))
    match = LINE.match(line)
    assert match, line
    assert (match["level"], match["name"]) == ("WARNING", "alphadesk.test")
    stamp = datetime.fromisoformat(match["time"].replace("Z", "+00:00"))
    assert stamp.utcoffset() == UTC.utcoffset(None)
    assert line.endswith("hello world")


def test_secrets_are_masked_in_the_message_and_in_the_traceback() -> None:
    formatter = desk_logging.DeskFormatter([Secret(SECRET), Secret("abc")])
    try:
        raise RuntimeError(f"signing failed with {SECRET}")
    except RuntimeError as err:
        line = formatter.format(record("key %s", SECRET, exc=err))
    assert SECRET not in line
    assert line.count("***") == 2
    assert "abc" not in desk_logging.secret_values([Secret("abc")])  # too short to mask


def test_configure_replaces_its_own_handler_keeps_others_and_installed_restores(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    foreign = logging.NullHandler()
    root.addHandler(foreign)
    try:
        with desk_logging.installed("INFO", [Secret(SECRET)]):
            desk_logging.configure("WARNING", [Secret(SECRET)])
            ours = [h for h in root.handlers
                    if isinstance(h.formatter, desk_logging.DeskFormatter
                                  | desk_logging.JsonFormatter)]
            assert len(ours) == 1 and foreign in root.handlers
            assert root.level == logging.WARNING
            logging.getLogger("alphadesk.test").warning("token %s", SECRET)
            logging.getLogger("alphadesk.test").info("not shown")
        err = capsys.readouterr().err
        assert "token ***" in err and SECRET not in err and "not shown" not in err
        assert (root.level, [h for h in root.handlers if h is not foreign]) == before
    finally:
        root.removeHandler(foreign)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_BYBIT_API_KEY",
                                                                    "_BYBIT_API_SECRET"))}
    for name in ("DATABASE_URL", "REDIS_URL", "BYBIT_TESTNET", "ALPHADESK_CONFIG"):
        env.pop(name, None)
    return {**env, "LOG_LEVEL": "DEBUG", **extra}


def _text(path: Path) -> str:
    return path.read_text()


def _lines(path: Path) -> list[str]:
    return [line for line in _text(path).splitlines() if line.strip()]


async def _run_until_first_line(argv: list[str], env: dict[str, str], err: Path,
                                expected: str) -> int:
    """Start ``alphadesk ARGV``, wait for its first stdout line, stop it with SIGTERM."""
    with err.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "alphadesk.app.cli", *argv, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )
        try:
            assert proc.stdout is not None
            first = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert expected in first, (first, _text(err)[-2000:])
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
    return code


def _json_lines(path: Path) -> list[dict[str, object]]:
    """Every line of a JSON log, parsed; each has a UTC time, a level, a logger and a message."""
    docs = [json.loads(line) for line in _lines(path)]
    for doc in docs:
        assert {"time", "level", "logger", "message"} <= set(doc), doc
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(doc["time"])), doc
        assert doc["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), doc
    return docs


async def test_the_simulator_process_logs_text_when_asked_and_no_secret(
    market_csv: Callable[[str], Path], tmp_path: Path,
) -> None:
    err = tmp_path / "simulator.err"
    env = _env(SHORTSELLER_BYBIT_API_KEY=KEY, SHORTSELLER_BYBIT_API_SECRET=SECRET,
               LOG_FORMAT="text")
    code = await _run_until_first_line(
        ["simulator", "--port", "0", "--data", str(market_csv(BTC_5M))], env, err, "simulator: ",
    )
    assert code == 0, _text(err)[-2000:]
    lines = _lines(err)
    assert any(re.match(LINE.pattern + r"serving http://127\.0\.0\.1:", line) for line in lines)
    assert all(LINE.match(line) for line in lines), lines
    assert SECRET not in _text(err) and KEY not in _text(err)


async def test_the_simulator_process_logs_json_off_a_terminal_and_to_a_file(
    market_csv: Callable[[str], Path], tmp_path: Path,
) -> None:
    err, log_file = tmp_path / "simulator.err", tmp_path / "logs" / "simulator.log"
    env = _env(SHORTSELLER_BYBIT_API_KEY=KEY, SHORTSELLER_BYBIT_API_SECRET=SECRET,
               LOG_FILE=str(log_file))
    code = await _run_until_first_line(
        ["simulator", "--port", "0", "--data", str(market_csv(BTC_5M))], env, err, "simulator: ",
    )
    assert code == 0, _text(err)[-2000:]
    for path in (err, log_file):
        docs = _json_lines(path)
        assert any(str(d["message"]).startswith("serving http://127.0.0.1:") for d in docs), docs
        assert SECRET not in _text(path) and KEY not in _text(path)
    assert [d["message"] for d in _json_lines(err)] == [d["message"] for d in _json_lines(log_file)]


def test_json_lines_carry_extra_fields_and_mask_secrets_everywhere() -> None:
    formatter = desk_logging.JsonFormatter([Secret(SECRET)])
    try:
        raise RuntimeError(f"signing failed with {SECRET}")
    except RuntimeError as err:
        rec = record("key %s", SECRET, exc=err)
    rec.bot_id, rec.fills, rec.note = "lxalgo_001", 3, f'quoted "{SECRET}"'
    rec.ratio = float("nan")
    line = formatter.format(rec)
    assert SECRET not in line and "\n" not in line
    doc = json.loads(line)
    assert (doc["level"], doc["logger"], doc["message"]) == ("WARNING", "alphadesk.test", "key ***")
    assert "RuntimeError: signing failed with ***" in doc["exc"]
    assert (doc["bot_id"], doc["fills"], doc["note"]) == ("lxalgo_001", 3, 'quoted "***"')
    assert doc["ratio"] == "nan"  # strict JSON has no NaN


def test_auto_is_text_on_a_terminal_and_json_elsewhere(tmp_path: Path) -> None:
    leader, follower = os.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as tty, (tmp_path / "f").open("w") as file:
            assert desk_logging.wants_json("auto", tty) is False
            assert desk_logging.wants_json("auto", file) is True
            assert desk_logging.wants_json("text", file) is False
            assert desk_logging.wants_json("json", tty) is True
    finally:
        os.close(leader)
        os.close(follower)
    with pytest.raises(ValueError, match="LOG_FORMAT='xml'"):
        desk_logging.wants_json("xml")


def test_the_log_file_rotates_and_keeps_n_old_files(tmp_path: Path) -> None:
    path = tmp_path / "desk.log"
    with desk_logging.installed("INFO", [Secret(SECRET)], log_format="auto", log_file=path,
                                file_max_bytes=2_000, file_keep=2):
        log = logging.getLogger("alphadesk.rotation")
        for n in range(100):
            log.info("line %03d with %s", n, SECRET)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["desk.log", "desk.log.1", "desk.log.2"]
    numbers = []
    for name in ("desk.log.2", "desk.log.1", "desk.log"):
        assert (tmp_path / name).stat().st_size <= 2_000
        for doc in _json_lines(tmp_path / name):
            assert doc["logger"] == "alphadesk.rotation" and SECRET not in str(doc["message"])
            numbers.append(int(str(doc["message"]).split()[1]))
    assert numbers == list(range(numbers[0], 100)) and numbers[0] > 0  # oldest rotated away
    assert not any(isinstance(h, logging.handlers.RotatingFileHandler)
                   for h in logging.getLogger().handlers)


async def test_the_listener_process_logs_with_time_and_level_and_no_secret(
    market_csv: Callable[[str], Path], tmp_path: Path,
) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    await asyncio.to_thread(migrate.upgrade, ledger)
    account = SimAccount(KEY, SECRET, name="shortseller")
    err = tmp_path / "listener.err"
    async with run_simulator([market_csv(BTC_5M)], [account], history_bars=50) as sim:
        env = _env(DATABASE_URL=ledger, BYBIT_DEMO="true", BYBIT_BASE_URL=sim.base_url,
                   SHORTSELLER_BYBIT_API_KEY=KEY, SHORTSELLER_BYBIT_API_SECRET=SECRET)
        code = await _run_until_first_line(
            ["listener", "--symbols", "BTCUSDT", "--health-file", str(tmp_path / "h.json"),
             "--spool-dir", str(tmp_path / "spool")],
            env, err, "listener: recording shortseller",
        )
    assert code == 0, _text(err)[-2000:]
    text = _text(err)
    docs = _json_lines(err)  # stderr is a file here: one JSON object per line, nothing else
    assert any(str(d["message"]).startswith("recording shortseller") for d in docs), docs
    assert {d["logger"] for d in docs} >= {"alphadesk.listener"}
    assert SECRET not in text and KEY not in text
