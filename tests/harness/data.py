"""The test data the repository carries: recorded Bybit payloads and candle files.

Payloads live in tests/fixtures/bybit_payloads/. Candles are looked up first in the folder the
package ships (src/alphadesk/data/market/, the files `alphadesk demo` uses) and then in
tests/fixtures/market/ (test-only files). Every file's origin and licence is in the SOURCES.md
beside it. Nothing outside the repository is read, so a bare clone runs its tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alphadesk.data import market_dir as bundled_market_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"
PAYLOADS_DIR = FIXTURES_DIR / "bybit_payloads"
FIXTURE_MARKET_DIR = FIXTURES_DIR / "market"


class DataFileMissingError(FileNotFoundError):
    """A test data file is not where the tests expect it in the repository."""


def market_dirs() -> tuple[Path, ...]:
    """The candle folders, searched in this order: the package's bundle, then the test fixtures."""
    return (bundled_market_dir(), FIXTURE_MARKET_DIR)


def _known(directories: tuple[Path, ...], suffix: str) -> str:
    names = sorted({p.name for d in directories if d.is_dir() for p in d.glob(f"*{suffix}")})
    return ", ".join(names) or "nothing"


def _find(directories: tuple[Path, ...], name: str, suffix: str) -> Path:
    file_name = name if name.endswith(suffix) else f"{name}{suffix}"
    for directory in directories:
        path = directory / file_name
        if path.is_file():
            return path
    where = " or ".join(str(d) for d in directories)
    raise DataFileMissingError(
        f"{file_name} not found in {where}; there are: {_known(directories, suffix)}"
    )


def payloads_dir() -> Path:
    """The folder of recorded Bybit V5 payloads (one JSON file each)."""
    return PAYLOADS_DIR


def bybit_payload_path(name: str) -> Path:
    """Path of a recorded Bybit V5 payload, e.g. `http_get_executions` (`.json` optional)."""
    return _find((PAYLOADS_DIR,), name, ".json")


def bybit_payload(name: str) -> Any:
    """A recorded Bybit V5 payload, parsed as JSON exactly as the exchange sent it."""
    return json.loads(bybit_payload_path(name).read_text(encoding="utf-8"))


def market_csv(name: str) -> Path:
    """Path of a candle CSV (`ts_ms,open,high,low,close,volume`); `.csv` is optional."""
    return _find(market_dirs(), name, ".csv")


def market_files(pattern: str) -> list[Path]:
    """Every candle file matching a glob pattern, across both folders, sorted by name."""
    found = {p.name: p for d in reversed(market_dirs()) for p in d.glob(pattern)}
    return [found[name] for name in sorted(found)]
