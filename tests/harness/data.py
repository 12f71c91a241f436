"""The shared data folder (real Bybit payloads, market candles) that lives beside the repository.

On a dev machine it is /work/shared/data; CI clones the repository elsewhere and puts a copy of
shared/ beside the clone, hence `<repo root>/../shared/data`. ALPHADESK_SHARED_DATA overrides it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SHARED_DATA_ENV = "ALPHADESK_SHARED_DATA"
REPO_ROOT = Path(__file__).resolve().parents[2]


class SharedDataMissingError(FileNotFoundError):
    """The shared data folder, or a file in it, is not where the tests expect it."""


def shared_data_dir() -> Path:
    """The shared data folder; raises SharedDataMissingError saying where it looked."""
    override = os.environ.get(SHARED_DATA_ENV)
    path = Path(override) if override else REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        how = f"{SHARED_DATA_ENV}={override}" if override else "<repo root>/../shared/data"
        raise SharedDataMissingError(
            f"shared data folder not found at {path} ({how}); put a copy of shared/ beside the "
            f"repository or set {SHARED_DATA_ENV} to its data folder"
        )
    return path


def _file_in(folder: str, name: str, suffix: str) -> Path:
    directory = shared_data_dir() / folder
    path = directory / (name if name.endswith(suffix) else f"{name}{suffix}")
    if not path.is_file():
        known = sorted(p.name for p in directory.glob(f"*{suffix}")) if directory.is_dir() else []
        raise SharedDataMissingError(
            f"{path} not found; {folder}/ has: {', '.join(known) or 'nothing'}"
        )
    return path


def bybit_payload_path(name: str) -> Path:
    """Path of a recorded Bybit V5 payload, e.g. `http_get_executions` (`.json` optional)."""
    return _file_in("bybit_payloads", name, ".json")


def bybit_payload(name: str) -> Any:
    """A recorded Bybit V5 payload, parsed as JSON exactly as the exchange sent it."""
    return json.loads(bybit_payload_path(name).read_text(encoding="utf-8"))


def market_csv(name: str) -> Path:
    """Path of a candle CSV (`ts_ms,open,high,low,close,volume`); `.csv` is optional."""
    return _file_in("market", name, ".csv")
