"""The listener's health snapshot file, read back for the control facade (``HealthSource``).

The running listener writes :meth:`alphadesk.engine.health.HealthReport.to_json` atomically to
its ``--health-file`` every few seconds; ``alphadesk listener --health`` and the facade read the
same file. A missing file means no listener runs here (None); an unreadable one is reported as an
unhealthy snapshot naming the problem, never as a crash.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alphadesk.engine.control_ports import ListenerSnapshot
from alphadesk.engine.health import AccountHealth

if TYPE_CHECKING:
    from alphadesk.engine.control_ports import HealthSource


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_snapshot(text: str) -> ListenerSnapshot:
    data = json.loads(text)
    at = _time(data["at"])
    if at is None:
        raise ValueError("'at' is missing")
    accounts = tuple(
        AccountHealth(
            account=str(a["account"]),
            connected=bool(a["connected"]),
            last_message_age_s=a.get("last_message_age_s"),
            last_exec_time=_time(a.get("last_exec_time")),
            spool_depth=int(a.get("spool_depth", 0)),
            reconnects=int(a.get("reconnects", 0)),
            gap_fills=int(a.get("gap_fills", 0)),
            gap_fill_failures=int(a.get("gap_fill_failures", 0)),
            gap_fill_error=str(a.get("gap_fill_error", "")),
        )
        for a in data.get("accounts", [])
    )
    return ListenerSnapshot(
        at=at,
        healthy=bool(data.get("healthy")),
        problems=tuple(str(p) for p in data.get("problems", [])),
        accounts=accounts,
        dead_letters=int(data.get("dead_letters", 0)),
    )


class ListenerHealthFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def listener(self) -> ListenerSnapshot | None:
        try:
            text = await asyncio.to_thread(self.path.read_text)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return _broken(f"health file {self.path} unreadable: {exc}")
        try:
            return parse_snapshot(text)
        except (ValueError, KeyError, TypeError) as exc:
            return _broken(f"health file {self.path} unreadable: {exc}")


def _broken(problem: str) -> ListenerSnapshot:
    return ListenerSnapshot(datetime.now(UTC), False, (problem,), (), 0)


if TYPE_CHECKING:
    _check: type[HealthSource] = ListenerHealthFile
