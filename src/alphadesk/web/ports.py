"""What the web needs of the control facade (``engine/control.py``), as a Protocol.

The method names and meanings are the facade's contract (issue 15); the views are the facade's
own dataclasses (``engine/control_views.py``), sent as they are (:mod:`alphadesk.web.jsonview`),
so the web never recomputes a figure. mypy checks that ``Control`` satisfies this.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from alphadesk.domain.enums import Side
from alphadesk.engine.control_views import (
    AnalyticsView,
    AuditLine,
    BalancesView,
    CommandReceipt,
    DeskStatus,
    HealthView,
    PerformanceView,
    PnlTable,
    PositionView,
    PriceHistory,
    ReconcileView,
    RoundTripPage,
    RoundTripView,
)

Period = Literal["daily", "weekly", "monthly"]


class DeskControl(Protocol):
    async def bots(self) -> list[str]: ...

    async def status(self, bot: str | None = None) -> DeskStatus: ...

    async def positions(self, bot: str | None = None) -> list[PositionView]: ...

    async def balances(self, bot: str | None = None) -> BalancesView: ...

    async def analytics(self, bot: str | None = None) -> AnalyticsView: ...

    async def performance(self, bot: str | None = None) -> PerformanceView: ...

    async def pnl_table(self, period: Period, bot: str | None = None, rows: int = 7) -> PnlTable:
        ...

    async def trades(self, bot: str | None = None, n: int = 10) -> list[RoundTripView]: ...

    async def trade_page(
        self, bot: str | None = None, *, n: int = 50, offset: int = 0,
        symbol: str | None = None, side: Side | None = None, exit_reason: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> RoundTripPage: ...

    async def health(self) -> HealthView: ...

    async def price_history(self, symbol: str, limit: int = 500) -> PriceHistory: ...

    async def reconcile(self, bot: str | None = None) -> ReconcileView: ...

    async def halt(self, bot: str, actor: str) -> CommandReceipt: ...

    async def resume(self, bot: str, actor: str) -> CommandReceipt: ...

    async def flatten(self, bot: str, actor: str) -> CommandReceipt: ...

    async def audit_log(self, bot: str | None = None, limit: int = 20) -> list[AuditLine]: ...
