"""One implementation of the context's intent-building half, shared by the engine and tests.

Building intents in one place means the backtest, live engine and the test harness stamp them
identically (bot id, decision time), which is what intent-parity tests compare. A subclass
supplies ``bot_id``, ``now_ms``, ``portfolio`` and ``submit`` (what happens to an intent).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from decimal import Decimal

from alphadesk.domain.enums import Side
from alphadesk.domain.intents import (
    CancelIntent,
    EnterIntent,
    ExitIntent,
    Intent,
    SetStopIntent,
    SetTrailingIntent,
    SizeHint,
    TakeProfitLevel,
    TrailingSpec,
)
from alphadesk.strategies.api import PortfolioView


class IntentContext(ABC):
    """Builds intents stamped with ``bot_id`` and ``now_ms`` and passes them to ``submit``."""

    @property
    @abstractmethod
    def bot_id(self) -> str: ...

    @property
    @abstractmethod
    def now_ms(self) -> int: ...

    @property
    @abstractmethod
    def portfolio(self) -> PortfolioView: ...

    @abstractmethod
    def submit(self, intent: Intent) -> None:
        """Take one intent (record it, route it to risk ...)."""

    def enter(
        self,
        symbol: str,
        side: Side,
        size: SizeHint,
        reason: str,
        *,
        ref_price: Decimal,
        stop_loss: Decimal | None = None,
        take_profits: tuple[TakeProfitLevel, ...] = (),
        trailing: TrailingSpec | None = None,
    ) -> EnterIntent:
        intent = EnterIntent(
            time_ms=self.now_ms,
            bot_id=self.bot_id,
            symbol=symbol,
            side=side,
            size=size,
            reason=reason,
            ref_price=ref_price,
            stop_loss=stop_loss,
            take_profits=take_profits,
            trailing=trailing,
        )
        self.submit(intent)
        return intent

    def exit(self, symbol: str, reason: str, fraction: Decimal = Decimal(1)) -> ExitIntent:
        intent = ExitIntent(
            time_ms=self.now_ms, bot_id=self.bot_id, symbol=symbol, reason=reason, fraction=fraction
        )
        self.submit(intent)
        return intent

    def set_stop(self, symbol: str, stop_loss: Decimal, reason: str) -> SetStopIntent:
        intent = SetStopIntent(
            time_ms=self.now_ms,
            bot_id=self.bot_id,
            symbol=symbol,
            stop_loss=stop_loss,
            reason=reason,
        )
        self.submit(intent)
        return intent

    def set_trailing(self, symbol: str, trailing: TrailingSpec, reason: str) -> SetTrailingIntent:
        intent = SetTrailingIntent(
            time_ms=self.now_ms,
            bot_id=self.bot_id,
            symbol=symbol,
            trailing=trailing,
            reason=reason,
        )
        self.submit(intent)
        return intent

    def cancel(self, symbol: str, reason: str) -> CancelIntent:
        intent = CancelIntent(time_ms=self.now_ms, bot_id=self.bot_id, symbol=symbol, reason=reason)
        self.submit(intent)
        return intent

    def wake_at(self, symbol: str, time_ms: int) -> None:  # noqa: B027 (a no-op on purpose)
        """Nothing: this context's driver calls the strategy on every bar anyway (the backtest's
        context, which skips bars, keeps the times)."""
