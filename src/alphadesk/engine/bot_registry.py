"""The port for ``trading.bots``: a running bot registers itself and keeps its row current.

The row is what an operator (and the seed's SQL) reads to see which bots exist, how they run
(``deployment_mode``), whether they are alive (``last_heartbeat``) and in which state
(``status``). The status words are the schema's CHECK list; the kill switch's states map onto
three of them, so a HALTED bot reads ``halted`` in SQL without asking Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField
from alphadesk.strategies.api import TradingState

STATUSES = ("active", "paused", "stopped", "reducing", "halted")
MODES = ("live", "demo", "testnet", "paper")

_BY_STATE = {
    TradingState.ACTIVE: "active",
    TradingState.REDUCING: "reducing",
    TradingState.HALTED: "halted",
}


def status_for(state: TradingState) -> str:
    """The ``trading.bots.status`` word of a running bot in kill-switch ``state``."""
    return _BY_STATE[state]


def state_of_status(status: str) -> TradingState | None:
    """The kill-switch state a stored status word implies (None: it says nothing about risk)."""
    for state, word in _BY_STATE.items():
        if word == status and state is not TradingState.ACTIVE:
            return state
    return None


def check_status(status: object) -> str:
    if status not in STATUSES:
        raise InvalidField("bot.status", status, f"must be one of {', '.join(STATUSES)}")
    return str(status)


@dataclass(frozen=True, slots=True)
class BotRecord:
    """One row of ``trading.bots``."""

    bot_id: str
    bot_name: str
    bot_type: str
    strategy_name: str
    status: str
    deployment_mode: str
    initial_capital: Decimal
    current_equity: Decimal | None = None
    last_heartbeat: datetime | None = None

    def __post_init__(self) -> None:
        checks.text("bot.bot_id", self.bot_id, max_len=50)
        checks.text("bot.bot_name", self.bot_name, max_len=100)
        checks.text("bot.bot_type", self.bot_type, max_len=50)
        checks.text("bot.strategy_name", self.strategy_name, max_len=100)
        check_status(self.status)
        if self.deployment_mode not in MODES:
            raise InvalidField(
                "bot.deployment_mode", self.deployment_mode, f"must be one of {', '.join(MODES)}"
            )
        checks.decimal("bot.initial_capital", self.initial_capital)
        if self.current_equity is not None:
            checks.decimal("bot.current_equity", self.current_equity)
        if self.last_heartbeat is not None:
            checks.utc("bot.last_heartbeat", self.last_heartbeat)


class BotRegistry(Protocol):
    """``trading.bots`` as a running bot uses it (PostgreSQL and SQLite adapters implement it)."""

    async def register(self, record: BotRecord) -> None:
        """Insert the row, or update every column but ``created_at`` if it exists."""
        ...

    async def heartbeat(self, bot_id: str, at: datetime, *, equity: Decimal | None = None) -> None:
        """Set ``last_heartbeat`` (and ``current_equity`` when given)."""
        ...

    async def set_status(self, bot_id: str, status: str) -> None: ...

    async def get(self, bot_id: str) -> BotRecord | None: ...

    async def close(self) -> None: ...
