"""Candle files the simulator replays: ``ts_ms,open,high,low,close,volume``, oldest first.

Prices keep the file's own text as Decimal so that what the simulator serves (and fills at) is
exactly the digits in the file, never a float's binary expansion. The symbol is the file name's
prefix before the first ``_`` and the bar interval comes from the name (``_5m_``, ``_4h_``) or,
failing that, from the spacing of the first two rows. Parquet candles (``alphadesk data``) are
read too, each float taken as the shortest decimal that stands for it.

Beside the candles the simulator takes what the data folder knows: funding-rate history
(``*funding*`` CSV/Parquet, charged and served by ``/v5/market/funding/history``) and Bybit's
instrument rules (the folder's ``instruments_linear.json``, else the bundled one).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from alphadesk.adapters.market_store.files import funding_beside, read_candles, read_funding
from alphadesk.adapters.market_store.instruments import INSTRUMENTS_FILE, read_instruments
from alphadesk.data import market_dir
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.instruments import Instrument

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
    funding: dict[int, Decimal] = field(default_factory=dict)
    """Recorded funding rates by settlement time (empty: the configured constant rate)."""
    instrument: Instrument | None = None
    """Bybit's rules for the symbol when the data folder or the bundle has them."""

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
    """Read one candle file (CSV or Parquet) with the funding and rules found beside it."""
    path = Path(path)
    series = _load_parquet(path) if path.suffix.lower() == ".parquet" else _load_csv(path)
    symbol = series.symbol
    beside = funding_beside(path, symbol)
    funding = read_funding(beside, symbol).as_map() if beside else {}
    instrument = read_instruments(path.parent / INSTRUMENTS_FILE).get(symbol) or read_instruments(
        market_dir() / INSTRUMENTS_FILE
    ).get(symbol)
    return CandleSeries(series.symbol, series.interval_min, series.candles, series.tick_size,
                        funding, instrument)


def _load_parquet(path: Path) -> CandleSeries:
    raw = read_candles(path)
    if len(raw) < 2:
        raise InvalidField(f"{path.name}.rows", len(raw), "needs at least 2 candles")
    if (raw.ts_ms[1:] <= raw.ts_ms[:-1]).any():
        raise InvalidField(f"{path.name}.ts_ms", None, "must increase")
    candles: list[Candle] = []
    finest = 0
    columns = zip(raw.ts_ms.tolist(), raw.open.tolist(), raw.high.tolist(), raw.low.tolist(),
                  raw.close.tolist(), raw.volume.tolist(), strict=True)
    for start, *values in columns:
        decimals = [Decimal(repr(v)) for v in values]
        for value in decimals[:4]:
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int):
                finest = max(finest, -exponent)
        candles.append(Candle(int(start), *decimals))
    interval = raw.named_interval_min or (candles[1].start_ms - candles[0].start_ms) // MINUTE_MS
    return CandleSeries(raw.symbol, interval, tuple(candles), Decimal(1).scaleb(-finest))


def _load_csv(path: Path) -> CandleSeries:
    """The tick size is the finest price grid the file's digits use."""
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
