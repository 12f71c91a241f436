"""``/api/v1``: the facade's reads and commands as JSON, for the dashboard and for scripts.

Every route needs a login (:mod:`alphadesk.web.auth`); commands need an admin and, from a
browser session, the CSRF token. Figures are the facade's, serialised as they are.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
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
    RoundTripView,
)
from alphadesk.web.auth import Principal, csrf_token, require_admin, require_user
from alphadesk.web.backtests import BacktestFolder
from alphadesk.web.jsonview import to_jsonable
from alphadesk.web.live import LiveHub, snapshot
from alphadesk.web.ports import DeskControl

router = APIRouter(prefix="/api/v1")

User = Annotated[Principal, Depends(require_user)]
Admin = Annotated[Principal, Depends(require_admin)]
BotQuery = Annotated[str | None, Query(description="bot id or strategy name; all bots when absent")]

#: The facade answers at most 1,000 round trips per call (see /work/notes/web_needs.md).
MAX_TRADES = 1_000


def _control(request: Request) -> DeskControl:
    control: DeskControl = request.app.state.control
    return control


def _hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.hub
    return hub


def _folder(request: Request) -> BacktestFolder:
    folder: BacktestFolder = request.app.state.backtests
    return folder


def ok(value: Any) -> JSONResponse:
    return JSONResponse(to_jsonable(value))


@router.get("/session", summary="who is logged in, their role and the CSRF token for commands")
async def session(request: Request, user: User) -> dict[str, Any]:
    return {"user": user.name, "role": user.role, "via": user.via,
            "csrf": csrf_token(request) if user.via == "session" else None}  # fmt: skip


@router.get("/bots", summary="bot ids known to the desk", response_model=list[str])
async def bots(request: Request, user: User) -> JSONResponse:
    return ok(await _control(request).bots())


@router.get("/overview", summary="status, positions, balances and health in one object")
async def overview(request: Request, user: User) -> JSONResponse:
    return ok(await snapshot(_control(request)))


@router.get(
    "/status", response_model=DeskStatus,
    summary="per bot: mode, TradingState, heartbeat age; listener/sync health",
)
async def status(request: Request, user: User, bot: BotQuery = None) -> JSONResponse:
    return ok(await _control(request).status(bot))


@router.get(
    "/positions", response_model=list[PositionView],
    summary="open positions with unrealised PnL from the live mark",
)
async def positions(request: Request, user: User, bot: BotQuery = None) -> JSONResponse:
    return ok(await _control(request).positions(bot))


@router.get("/balances", summary="latest equity rows per bot", response_model=BalancesView)
async def balances(request: Request, user: User, bot: BotQuery = None) -> JSONResponse:
    return ok(await _control(request).balances(bot))


@router.get(
    "/analytics", response_model=AnalyticsView,
    summary="fills, volume, win rate; by strategy; top symbols",
)
async def analytics(request: Request, user: User, bot: BotQuery = None) -> JSONResponse:
    return ok(await _control(request).analytics(bot))


@router.get(
    "/performance", response_model=PerformanceView,
    summary="performance metrics and the equity curve",
)
async def performance(request: Request, user: User, bot: BotQuery = None) -> JSONResponse:
    return ok(await _control(request).performance(bot))


@router.get(
    "/prices/{symbol}", response_model=PriceHistory,
    summary="a symbol's recent closed bars from the live state (events:bars), oldest first",
)
async def prices(request: Request, user: User, symbol: str, limit: int = 500) -> JSONResponse:
    return ok(await _control(request).price_history(symbol, limit))


@router.get(
    "/pnl/{period}", response_model=PnlTable,
    summary="daily, weekly or monthly PnL from the round trips",
)
async def pnl(request: Request, user: User, period: Literal["daily", "weekly", "monthly"],
              bot: BotQuery = None,
              rows: Annotated[int, Query(ge=1, le=366)] = 7) -> JSONResponse:  # fmt: skip
    return ok(await _control(request).pnl_table(period, bot, rows))


@router.get(
    "/health", response_model=HealthView,
    summary="listener, sync, spool, dead letters, bus",
)
async def health(request: Request, user: User) -> JSONResponse:
    return ok(await _control(request).health())


@router.get(
    "/reconcile", response_model=ReconcileView,
    summary="read-only diff of venue and ledger positions (never repairs)",
)
async def reconcile(request: Request, user: User, bot: BotQuery = None) -> JSONResponse:
    return ok(await _control(request).reconcile(bot))


async def _trade_page(request: Request, bot: str | None, symbol: str | None, side: str | None,
                      exit_reason: str | None, *, n: int, offset: int) -> tuple[int, list[Any]]:
    """One page of the facade's round trips over the whole ledger (filters as typed: the side
    in any case, the exit reason as stored, lower case)."""
    page = await _control(request).trade_page(
        bot, n=n, offset=offset, symbol=symbol.upper() if symbol else None,
        side=Side.parse(side.capitalize(), "side") if side else None,
        exit_reason=exit_reason.lower() if exit_reason else None)
    return page.total, list(to_jsonable(list(page.trades)))


async def _trades(request: Request, bot: str | None, symbol: str | None, side: str | None,
                  exit_reason: str | None) -> list[Any]:  # fmt: skip
    """Every matching round trip, page by page (the CSV export)."""
    rows: list[Any] = []
    while True:
        total, page = await _trade_page(request, bot, symbol, side, exit_reason,
                                        n=MAX_TRADES, offset=len(rows))
        rows.extend(page)
        if not page or len(rows) >= total:
            return rows


Page = Annotated[int, Query(ge=1)]
PerPage = Annotated[int, Query(ge=1, le=1000)]


@dataclass(frozen=True, slots=True)
class TradesPage:
    """One page of the (filtered) round trips; ``total`` counts every match."""

    total: int
    page: int
    per_page: int
    trades: list[RoundTripView]


@router.get("/trades", summary="round trips, newest first, filtered and paged",
            response_model=TradesPage)
async def trades(request: Request, user: User, bot: BotQuery = None,
                 symbol: str | None = None, side: str | None = None,
                 exit_reason: str | None = None, page: Page = 1,
                 per_page: PerPage = 50) -> JSONResponse:  # fmt: skip
    total, rows = await _trade_page(request, bot, symbol, side, exit_reason, n=per_page,
                                    offset=(page - 1) * per_page)
    return JSONResponse({"total": total, "page": page, "per_page": per_page,
                         "trades": rows})  # fmt: skip


@router.get("/trades.csv", summary="the filtered round trips as CSV")
async def trades_csv(request: Request, user: User, bot: BotQuery = None,
                     symbol: str | None = None, side: str | None = None,
                     exit_reason: str | None = None) -> Response:  # fmt: skip
    rows = await _trades(request, bot, symbol, side, exit_reason)
    out = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # a leading = + - @ would be a formula in a spreadsheet: quote it as text
        writer.writerow({k: _cell(v) for k, v in row.items()})
    name = "round_trips_" + "".join(c for c in (bot or "desk") if c.isalnum() or c in "_-")
    disposition = f'attachment; filename="{name}.csv"'
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": disposition})  # fmt: skip


def _cell(value: Any) -> Any:
    if (isinstance(value, str) and value[:1] in ("=", "+", "@")) or (
        isinstance(value, str) and value[:1] == "-" and not value[1:2].isdigit()
    ):
        return "'" + value
    return value if not isinstance(value, dict | list) else str(value)


@router.get("/events", summary="server-sent events: snapshot, fill, alert")
async def events(request: Request, user: User) -> EventSourceResponse:
    hub = _hub(request)

    async def stream() -> Any:
        async for name, data in hub.subscribe():
            if await request.is_disconnected():
                return
            yield ServerSentEvent(data=data, event=name)

    return EventSourceResponse(stream(), ping=15)


@router.get(
    "/audit", response_model=list[AuditLine],
    summary="the newest audited commands (who, when, what, outcome)",
)
async def audit(request: Request, user: User, bot: BotQuery = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 20) -> JSONResponse:  # fmt: skip
    return ok(await _control(request).audit_log(bot, limit))


# ---- commands -------------------------------------------------------------------------------


async def _command(request: Request, kind: str, bot: str, admin: Principal) -> JSONResponse:
    control = _control(request)
    receipt = await getattr(control, kind)(bot, admin.actor)
    _hub(request).refresh()
    _hub(request).refresh_pnl()
    return ok(receipt)


@router.post(
    "/bots/{bot}/halt", response_model=CommandReceipt,
    summary="halt a bot (stops new entries); audited",
)
async def halt(request: Request, bot: str, admin: Admin) -> JSONResponse:
    return await _command(request, "halt", bot, admin)


@router.post(
    "/bots/{bot}/resume", response_model=CommandReceipt,
    summary="resume a halted bot; audited",
)
async def resume(request: Request, bot: str, admin: Admin) -> JSONResponse:
    return await _command(request, "resume", bot, admin)


FLATTEN = 'the bot closes its positions; body {"confirm": "<bot>"}; audited'


@router.post("/bots/{bot}/flatten", summary=FLATTEN, response_model=CommandReceipt)
async def flatten(request: Request, bot: str, admin: Admin,
                  confirm: Annotated[str, Body(embed=True)] = "") -> JSONResponse:  # fmt: skip
    if confirm != bot:
        raise InvalidField("confirm", confirm, f"must repeat the bot name {bot!r} to flatten it")
    return await _command(request, "flatten", bot, admin)


# ---- backtests ------------------------------------------------------------------------------


@router.get("/backtests", summary="HTML reports and JSON results in the backtest folder")
async def backtests(request: Request, user: User) -> JSONResponse:
    return ok(_folder(request).list())


@router.get("/backtests/compare", summary="two JSON results side by side")
async def compare(request: Request, user: User, a: str, b: str) -> JSONResponse:
    folder = _folder(request)
    return ok({"a": _result(folder, a), "b": _result(folder, b)})


@router.get("/backtests/{name}", summary="one JSON result")
async def result(request: Request, user: User, name: str) -> JSONResponse:
    return ok(_result(_folder(request), name))


def _result(folder: BacktestFolder, name: str) -> dict[str, Any]:
    try:
        data = folder.result(name)
    except FileNotFoundError:
        raise HTTPException(404, f"name={name!r}: no such backtest result") from None
    except ValueError as exc:
        if isinstance(exc, InvalidField):
            raise
        raise InvalidField("name", name, "is not valid JSON") from None
    data["name"] = name
    return data
