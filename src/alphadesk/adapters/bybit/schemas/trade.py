"""Bybit V5 wire types: orders, executions, positions, closed PnL.

See :mod:`alphadesk.adapters.bybit.schemas` for the conventions.
"""
# ruff: noqa: N815

from typing import Any

from msgspec import Struct

# --- trade -------------------------------------------------------------------------------------


class OrderInfo(Struct):
    """An order in ``/v5/order/realtime``, ``/v5/order/history`` and the ``order`` topic."""

    orderId: str
    symbol: str
    side: str
    orderType: str
    qty: str
    orderStatus: str
    createdTime: str
    updatedTime: str
    orderLinkId: str = ""
    price: str | None = ""
    timeInForce: str = "GTC"
    reduceOnly: bool = False
    closeOnTrigger: bool = False
    leavesQty: str = ""
    leavesValue: str = ""
    cumExecQty: str = "0"
    cumExecValue: str = "0"
    cumExecFee: str = "0"
    avgPrice: str | None = ""
    triggerPrice: str | None = ""
    takeProfit: str | None = ""
    stopLoss: str | None = ""
    stopOrderType: str | None = ""
    rejectReason: str | None = ""
    cancelType: str | None = ""
    positionIdx: int = 0
    category: str = ""
    feeCurrency: str = ""
    createType: str = ""
    triggerDirection: int = 0
    triggerBy: str = ""
    tpTriggerBy: str = ""
    slTriggerBy: str = ""
    tpslMode: str = ""
    placeType: str = ""
    lastPriceOnCreated: str = ""
    blockTradeId: str | None = None
    orderIv: str | None = None


class OrdersResult(Struct):
    list: list[OrderInfo]
    nextPageCursor: str | None = None
    category: str = ""


class OrderAckInfo(Struct):
    orderId: str
    orderLinkId: str = ""


class CancelAllResult(Struct):
    list: list[OrderAckInfo]
    success: str = ""


class ExecutionInfo(Struct):
    """One execution, from ``/v5/execution/list`` or the ``execution`` topic."""

    execId: str
    symbol: str
    side: str
    execPrice: str
    execQty: str
    execTime: str
    orderId: str = ""
    orderLinkId: str = ""
    execType: str = "Trade"
    execFee: str = "0"
    execValue: str = ""
    feeRate: str = ""
    feeCurrency: str = ""
    isMaker: bool = False
    closedSize: str = ""
    orderPrice: str = ""
    orderQty: str = ""
    leavesQty: str = ""
    orderType: str = ""
    stopOrderType: str = ""
    markPrice: str = ""
    indexPrice: str = ""
    createType: str = ""
    category: str = ""
    blockTradeId: str = ""
    # the venue's sequence: what orders executions of one millisecond (a number on the wire;
    # text is read too rather than losing the row over its spelling)
    seq: int | str | None = None


class FastExecutionInfo(Struct):
    """``execution.fast``: no fee, no exec type; never recorded as a fill on its own."""

    execId: str
    symbol: str
    side: str
    execPrice: str
    execQty: str
    execTime: str
    orderId: str = ""
    orderLinkId: str = ""
    isMaker: bool = False
    category: str = ""
    seq: int = 0


class ExecutionsResult(Struct):
    list: list[ExecutionInfo]
    nextPageCursor: str | None = None
    category: str = ""


class RawExecutionsResult(Struct):
    """An execution page whose rows are still plain JSON, to be decoded one by one."""

    list: list[Any]
    nextPageCursor: str | None = None
    category: str = ""


class PositionInfo(Struct):
    """REST ``/v5/position/list`` has ``avgPrice``; the ``position`` topic has ``entryPrice``."""

    symbol: str
    side: str
    size: str
    avgPrice: str = ""
    entryPrice: str = ""
    markPrice: str = ""
    positionValue: str = ""
    leverage: str = ""
    unrealisedPnl: str = ""
    curRealisedPnl: str = ""
    cumRealisedPnl: str = ""
    takeProfit: str = ""
    stopLoss: str = ""
    trailingStop: str = ""
    liqPrice: str = ""
    bustPrice: str = ""
    positionIM: str = ""
    positionMM: str = ""
    positionBalance: str = ""
    positionStatus: str = ""
    tpslMode: str = ""
    createdTime: str = ""
    updatedTime: str = ""
    positionIdx: int = 0
    tradeMode: int = 0
    riskId: int = 0
    autoAddMargin: int = 0
    adlRankIndicator: int = 0
    isReduceOnly: bool = False
    seq: int = 0
    openTime: int | None = None
    category: str = ""


class PositionsResult(Struct):
    list: list[PositionInfo]
    nextPageCursor: str | None = None
    category: str = ""


class ClosedPnlInfo(Struct):
    """``/v5/position/closed-pnl``: one closing order's realised PnL (side = the closing side)."""

    symbol: str
    orderId: str
    side: str
    qty: str
    closedPnl: str
    createdTime: str
    updatedTime: str
    orderPrice: str = ""
    orderType: str = ""
    execType: str = ""
    closedSize: str = ""
    cumEntryValue: str = ""
    avgEntryPrice: str = ""
    cumExitValue: str = ""
    avgExitPrice: str = ""
    fillCount: str = ""
    leverage: str = ""
    openFee: str = ""
    closeFee: str = ""


class ClosedPnlResult(Struct):
    list: list[ClosedPnlInfo]
    nextPageCursor: str | None = None
    category: str = ""
