"""Candle files the simulator replays: ``ts_ms,open,high,low,close,volume``, oldest first.

Prices keep the file's own text as Decimal so that what the simulator serves (and fills at) is
exactly the digits in the file, never a float's binary expansion. The symbol is the file name's
prefix before the first ``_`` and the bar interval comes from the name (``_5m_``, ``_4h_``) or,
failing that, from the spacing of the first two rows.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from alphadesk.domain.errors import InvalidField

MINUTE_MS = 60_000
_INTERVAL_RE = re.compile(r"_(\d+)([mhdw])[_.]", re.IGNORECASE)
_UNIT_MIN = {"m": 1, "h": 60, "d": 1440, "w": 10080}


@dataclass(frozen=True, slots=True)
class Candle:
    start_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @property
    def turnover(self) -> Decimal:
        """Bybit's quote-currency volume; the files carry base volume, so estimate it at close."""
        return self.volume * self.close


@dataclass(frozen=True, slots=True)
class CandleSeries:
    symbol: str
    interval_min: int
    candles: tuple[Candle, ...]
    tick_size: Decimal

    @property
    def interval_ms(self) -> int:
        return self.interval_min * MINUTE_MS


def symbol_from_path(path: Path) -> str:
    symbol = path.name.split("_", 1)[0].split(".", 1)[0].upper()
    if not symbol.isalnum():
        raise InvalidField("candles.symbol", symbol, f"cannot be taken from file name {path.name}")
    return symbol


def _interval_from_name(path: Path) -> int | None:
    match = _INTERVAL_RE.search(path.name)
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_MIN[match.group(2).lower()]


def _decimal(path: Path, line: int, name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise InvalidField(f"{path.name}:{line}.{name}", text, "is not a number") from None
    if not value.is_finite():
        raise InvalidField(f"{path.name}:{line}.{name}", text, "must be finite")
    return value


def load_candles(path: Path | str) -> CandleSeries:
    """Read one candle file; the tick size is the finest price grid the file's digits use."""
    path = Path(path)
    candles: list[Candle] = []
    finest = 0
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:6]] != [
            "ts_ms", "open", "high", "low", "close", "volume",
        ]:
            raise InvalidField(
                f"{path.name}.header", header, "must be ts_ms,open,high,low,close,volume"
            )
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                start = int(row[0])
            except ValueError:
                raise InvalidField(f"{path.name}:{line}.ts_ms", row[0], "is not an int") from None
            values = [_decimal(path, line, n, t) for n, t in zip(
                ("open", "high", "low", "close", "volume"), row[1:6], strict=True)]
            for value in values[:4]:
                exponent = value.as_tuple().exponent
                if isinstance(exponent, int):
                    finest = max(finest, -exponent)
            if candles and start <= candles[-1].start_ms:
                raise InvalidField(f"{path.name}:{line}.ts_ms", start, "must increase")
            candles.append(Candle(start, *values))
    if len(candles) < 2:
        raise InvalidField(f"{path.name}.rows", len(candles), "needs at least 2 candles")
    interval = _interval_from_name(path) or (candles[1].start_ms - candles[0].start_ms) // MINUTE_MS
    if interval <= 0:
        raise InvalidField(f"{path.name}.interval", interval, "must be > 0 minutes")
    return CandleSeries(
        symbol=symbol_from_path(path),
        interval_min=interval,
        candles=tuple(candles),
        tick_size=Decimal(1).scaleb(-finest),
    )
