"""Start-up checks the commands share: each names the flag or variable and the value it refuses.

They run before a command does any work, so a missing folder or an unreachable database stops
it in a second with one clear line, not after a whole backtest or half a migration.
"""

from __future__ import annotations

import argparse
import asyncio
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from alphadesk.adapters.storage.urls import parse, unreachable
from alphadesk.app.settings import Settings, SettingsError
from alphadesk.domain.errors import InvalidField


async def database_async(flag_value: str | None, flag: str, settings: Settings) -> str:
    """The ledger URL to use (the flag's, else ``DATABASE_URL``'s), parsed and reachable."""
    source, raw = (flag, flag_value) if flag_value else ("DATABASE_URL", settings.database_url)
    try:
        url = parse(raw)
    except InvalidField as exc:
        raise SettingsError(f"{source}={exc.value!r}: {exc.reason}") from None
    reason = await unreachable(url)
    if reason is not None:
        raise SettingsError(f"{source}={url.redacted!r}: cannot open the database: {reason}")
    return url.raw


def database(flag_value: str | None, flag: str, settings: Settings) -> str:
    return asyncio.run(database_async(flag_value, flag, settings))


async def redis_async(settings: Settings, timeout_s: float = 5.0) -> None:
    """``REDIS_URL``, when set, answers a PING; the error names it (password masked)."""
    if not settings.redis_url:
        return
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(settings.redis_url, socket_connect_timeout=timeout_s,
                            socket_timeout=timeout_s)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        shown = settings.redis_url
        password = urlsplit(shown).password
        if password:
            shown = shown.replace(password, "***")
        reason = str(exc).replace(password, "***") if password else str(exc)
        raise SettingsError(f"REDIS_URL={shown!r}: cannot connect: {reason}") from None
    finally:
        await client.aclose()


def redis(settings: Settings) -> None:
    asyncio.run(redis_async(settings))


def input_files(flag: str, paths: Sequence[Path], *, folders: bool = False) -> None:
    """Every path exists and is a file; with ``folders`` a folder is taken too (it stands for
    the candle files in it, :func:`candle_files`)."""
    for path in paths:
        if path.is_file() or (folders and path.is_dir()):
            continue
        why = "is a folder" if path.is_dir() else "does not exist"
        raise SettingsError(f"{flag} {str(path)!r}: {why}")


def candle_files(flag: str, given: Sequence[Path], timeframe_min: int) -> list[Path]:
    """``--data`` as files: a folder gives its candle files for the strategy's timeframe
    (:func:`~alphadesk.backtest.data.pick_files`); a folder with none of them is an error naming
    it, not an empty run."""
    from alphadesk.backtest.data import pick_files  # numpy: loaded only by commands reading bars

    files: list[Path] = []
    for path in given:
        if not path.is_dir():
            files.append(path)
            continue
        picked = pick_files(path, timeframe_min)
        if not picked:
            raise SettingsError(
                f"{flag} {str(path)!r}: no candle files of a {timeframe_min}-minute interval or a "
                "finer one that divides it (CSV or Parquet named SYMBOL_<interval>_...)"
            )
        files.extend(picked)
    return files


def output_file(flag: str, path: Path | None) -> None:
    """The file can be written: its folder exists and it is not itself a folder."""
    if path is None:
        return
    if path.is_dir():
        raise SettingsError(f"{flag} {str(path)!r}: is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        raise SettingsError(f"{flag} {str(path)!r}: folder {str(folder)!r} does not exist")


def output_folder(flag: str, path: Path | None) -> None:
    """The folder exists or can be made (its nearest existing ancestor is a folder)."""
    if path is None:
        return
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise SettingsError(f"{flag} {str(path)!r}: {str(probe)!r} is a file, not a folder")


def positive(flag: str, value: float | Decimal | None, *, zero_ok: bool = False) -> None:
    """A finite number above zero (or at least zero)."""
    if value is None:
        return
    bound = ">= 0" if zero_ok else "> 0"
    finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    if not finite:
        raise SettingsError(f"{flag}={value}: must be a finite number {bound}")
    if value < 0 or (value == 0 and not zero_ok):
        raise SettingsError(f"{flag}={value}: must be {bound}")


def time_ms(text: str) -> int:
    """An argparse ``type``: a date (2025-10-01) or date-time (2025-10-01T12:00), UTC unless it
    says otherwise, or epoch ms."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date, date-time or epoch ms") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def decimal(text: str) -> Decimal:
    """An argparse ``type``: an exact number (money and rates stay Decimal from the flag on)."""
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def param(text: str) -> tuple[str, str]:
    """An argparse ``type`` for ``--param key=value``: the pair, still text; the strategy's
    catalog (``parse_overrides``) types the value, naming the field when it refuses it."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--param {text!r}: expected key=value")
    return key, value
