"""Bybit V5 account-side payloads (orders, executions, positions, wallet, closed PnL, user).

Built from the matching engine's records with the field sets of the recorded payloads
(``http_get_orders_realtime``, ``ws_account_order``, ``http_get_executions``,
``ws_account_execution``, ``http_get_positions``, ``ws_account_position``,
``http_get_wallet_balance``, ``ws_account_wallet``, ``http_get_user_query_api``,
``http_get_account_info``, ``http_get_fee_rate``); numbers are strings as on the wire.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alphadesk.adapters.sim.records import ClosedPnl, Execution, OrderView
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType, OrderStatus
from alphadesk.domain.events import PositionReported, WalletReported
from alphadesk.domain.orders import Order
from alphadesk.simulator.accounts import SimAccount
from alphadesk.simulator.market_payloads import s

ZERO = Decimal(0)


def _opt(value: Decimal | None) -> str:
    return "0" if value is None else s(value)


def _cancel_type(order: Order) -> str:
    if order.status in (OrderStatus.CANCELLED, OrderStatus.PARTIALLY_FILLED_CANCELED):
        return "UNKNOWN" if order.reject_reason else "CancelByUser"
    if order.status is OrderStatus.DEACTIVATED:
        return "CancelByTpSlTsClear"
    return "UNKNOWN"


def order_payload(
    view: OrderView, order: Order | None = None, *, ws: bool = False
) -> dict[str, Any]:
    """``order`` overrides the view's snapshot: a WS push renders the state at that event."""
    o = order or view.order
    leaves = o.remaining_qty if o.is_open else ZERO
    price = o.price
    same = order is None or order.filled_qty == view.order.filled_qty
    filled_value = view.cum_exec_value if same else (o.avg_fill_price or ZERO) * o.filled_qty
    out: dict[str, Any] = {
        "orderId": o.order_id,
        "orderLinkId": o.order_link_id,
        "blockTradeId": "" if ws else None,
        "symbol": o.symbol,
        "price": _opt(price),
        "qty": s(o.qty),
        "side": o.side.value,
        "isLeverage": "0",
        "positionIdx": 0,
        "orderStatus": o.status.value,
        "cancelType": _cancel_type(o),
        "rejectReason": o.reject_reason,
        "avgPrice": s(o.avg_fill_price) if o.avg_fill_price is not None else ("" if ws else None),
        "leavesQty": s(leaves),
        "leavesValue": s(leaves * (price or view.last_price_on_created or ZERO)),
        "cumExecQty": s(o.filled_qty),
        "cumExecValue": s(filled_value),
        "cumExecFee": s(view.cum_exec_fee),
        "timeInForce": o.time_in_force.value,
        "orderType": o.order_type.value,
        "stopOrderType": view.stop_order_type.value,
        "orderIv": "" if ws else None,
        "triggerPrice": _opt(o.trigger_price),
        "takeProfit": _opt(view.take_profit),
        "stopLoss": _opt(view.stop_loss),
        "tpTriggerBy": "LastPrice" if view.take_profit else "",
        "slTriggerBy": "LastPrice" if view.stop_loss else "",
        "triggerDirection": view.trigger_direction,
        "triggerBy": "LastPrice" if o.trigger_price is not None else "",
        "lastPriceOnCreated": _opt(view.last_price_on_created),
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": view.close_on_trigger,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": "Full" if (view.take_profit or view.stop_loss) else "",
        "tpLimitPrice": "0",
        "slLimitPrice": "0",
        "placeType": "order",
        "createdTime": str(to_epoch_ms(o.created_at)),
        "updatedTime": str(to_epoch_ms(o.updated_at)),
    }
    if ws:
        out["category"] = "linear"
        out["feeCurrency"] = "USDT"
        out["createType"] = view.create_type.value
    return out


def execution_payload(e: Execution, *, ws: bool = False) -> dict[str, Any]:
    f = e.fill
    is_trade = f.exec_type is not ExecType.FUNDING
    out: dict[str, Any] = {
        "symbol": f.symbol,
        "orderId": f.order_id,
        "orderLinkId": f.order_link_id,
        "side": f.side.value,
        "orderPrice": _opt(e.order_price),
        "orderQty": s(e.order_qty),
        "leavesQty": s(e.leaves_qty),
        "createType": e.create_type.value if is_trade else "",
        "orderType": f.order_type or ("UNKNOWN" if not is_trade else "Market"),
        "stopOrderType": e.stop_order_type.value or ("UNKNOWN" if ws else ""),
        "execFee": s(f.fee),
        "execId": f.exec_id,
        "execPrice": s(f.price),
        "execQty": s(f.qty),
        "execType": f.exec_type.value,
        "execValue": s(f.price * f.qty),
        "execTime": str(e.exec_ms),
        "feeCurrency": f.fee_currency,
        "isMaker": f.is_maker,
        "feeRate": s(e.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": s(e.mark_price),
        "indexPrice": s(e.mark_price) if not ws else "",
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": s(f.closed_size),
        "seq": e.seq,
    }
    if ws:
        out["category"] = "linear"
        out["isLeverage"] = "0"
    return out


def position_payload(p: PositionReported, leverage: Decimal, seq: int, *,
                     ws: bool = False) -> dict[str, Any]:
    value = p.size * p.avg_price
    im = value / leverage if leverage else ZERO
    updated = str(to_epoch_ms(p.updated_at))
    out: dict[str, Any] = {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": p.symbol,
        "side": p.side.value if p.side is not None and p.size else "",
        "size": s(p.size),
        "avgPrice": s(p.avg_price),
        "positionValue": s(value),
        "tradeMode": 0,
        "positionStatus": "Normal",
        "autoAddMargin": 0,
        "adlRankIndicator": 2 if p.size else 0,
        "leverage": s(leverage),
        "positionBalance": s(im),
        "markPrice": s(p.mark_price),
        "liqPrice": "",
        "bustPrice": "",
        "positionMM": s(value * Decimal("0.005")),
        "positionIM": s(im),
        "tpslMode": "Full",
        "takeProfit": s(p.take_profit),
        "stopLoss": s(p.stop_loss),
        "trailingStop": s(p.trailing_stop),
        "unrealisedPnl": s(p.unrealized_pnl),
        "curRealisedPnl": s(p.realized_pnl),
        "cumRealisedPnl": s(p.realized_pnl),
        "seq": seq,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "createdTime": updated,
        "updatedTime": updated,
    }
    if ws:
        out.pop("avgPrice")
        out.update({
            "entryPrice": s(p.avg_price),
            "sessionAvgPrice": "",
            "positionIMByMp": s(im),
            "positionMMByMp": s(value * Decimal("0.005")),
            "category": "linear",
        })
    return out


def wallet_payload(w: WalletReported, *, ws: bool = False) -> dict[str, Any]:
    used = w.equity - w.available_balance
    coin: dict[str, Any] = {
        "coin": "USDT",
        "equity": s(w.equity),
        "usdValue": s(w.equity),
        "walletBalance": s(w.wallet_balance),
        "availableToWithdraw": s(w.available_balance),
        "availableToBorrow": "",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "totalOrderIM": "0",
        "totalPositionIM": s(used),
        "totalPositionMM": s(used / 10),
        "unrealisedPnl": s(w.unrealized_pnl),
        "cumRealisedPnl": "0",
        "bonus": "0",
        "locked": "0",
        "collateralSwitch": True,
        "marginCollateral": True,
        "spotBorrow": "0",
    }
    account: dict[str, Any] = {
        "totalEquity": s(w.equity),
        "accountIMRate": s((used / w.equity).quantize(Decimal("0.0001"))) if w.equity else "0",
        "totalMarginBalance": s(w.equity),
        "totalInitialMargin": s(used),
        "accountType": "UNIFIED",
        "totalAvailableBalance": s(w.available_balance),
        "accountMMRate": "0",
        "totalPerpUPL": s(w.unrealized_pnl),
        "totalWalletBalance": s(w.wallet_balance),
        "accountLTV": "0",
        "totalMaintenanceMargin": s(used / 10),
        "coin": [coin],
    }
    if ws:
        account["totalPerpUpl"] = account.pop("totalPerpUPL")
    return account


def closed_pnl_payload(c: ClosedPnl) -> dict[str, Any]:
    return {
        "symbol": c.symbol,
        "orderType": c.order_type,
        "leverage": s(c.leverage),
        "updatedTime": str(c.updated_ms),
        "side": c.side.value,
        "orderId": c.order_id,
        "closedPnl": s(c.closed_pnl),
        "openFee": s(c.open_fee),
        "closeFee": s(c.close_fee),
        "avgEntryPrice": s(c.avg_entry_price),
        "qty": s(c.qty),
        "cumEntryValue": s(c.cum_entry_value),
        "createdTime": str(c.created_ms),
        "orderPrice": s(c.order_price),
        "closedSize": s(c.qty),
        "avgExitPrice": s(c.avg_exit_price),
        "execType": c.exec_type,
        "fillCount": str(c.fill_count),
        "cumExitValue": s(c.cum_exit_value),
    }


def query_api_payload(account: SimAccount, now_ms: int) -> dict[str, Any]:
    return {
        "id": str(account.uid),
        "note": account.name,
        "apiKey": account.key,
        "readOnly": 1 if account.read_only else 0,
        "secret": "",
        "permissions": account.permissions(),
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -2,
        "expiredAt": "1970-01-01T00:00:00Z",
        "createdAt": "2025-01-01T00:00:00Z",
        "unified": 0,
        "uta": 1,
        "userID": account.uid,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": False,
        "parentUid": "100000",
        "kycLevel": "LEVEL_1",
        "kycRegion": "",
        "userIDInt64": str(account.uid),
        "inviterIDInt64": "0",
        "affiliateIDInt64": "0",
    }


def account_info_payload(now_ms: int) -> dict[str, Any]:
    return {
        "marginMode": "REGULAR_MARGIN",
        "updatedTime": str(now_ms),
        "unifiedMarginStatus": 5,
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def fee_rate_payload(symbol: str, taker: Decimal, maker: Decimal) -> dict[str, str]:
    return {"symbol": symbol, "takerFeeRate": s(taker), "makerFeeRate": s(maker), "baseCoin": ""}


def coin_info_payload(coin: str) -> dict[str, Any]:
    """``/v5/asset/coin/query-info`` row; ccxt reads it for currencies during load_markets."""
    return {
        "name": coin,
        "coin": coin,
        "remainAmount": "1000000",
        "chains": [{
            "chainType": coin,
            "confirmation": "12",
            "withdrawFee": "1",
            "depositMin": "0",
            "withdrawMin": "1",
            "chain": coin,
            "chainDeposit": "1",
            "chainWithdraw": "1",
            "minAccuracy": "8",
            "withdrawPercentageFee": "0",
            "contractAddress": "",
            "safeConfirmNumber": "",
            "withdrawMinLimit": "",
            "depositMinLimit": "",
        }],
    }
