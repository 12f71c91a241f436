"""Private account endpoints: wallet, fee rates, account info, API-key info, coin info."""

from __future__ import annotations

from typing import Any

from alphadesk.simulator import account_payloads as ap
from alphadesk.simulator.errors import ApiError, RetCode
from alphadesk.simulator.http_common import Call, Handler


async def wallet_balance(call: Call) -> dict[str, Any]:
    account_type = call.text("accountType")
    if account_type != "UNIFIED":
        raise ApiError(RetCode.PARAMS_ERROR,
                       f"params error: accountType only support UNIFIED, got {account_type}")
    ex, account = call.exchange, call.who
    return {"list": [ap.wallet_payload(ex.engine.wallet(account.name))]}


async def fee_rate(call: Call) -> dict[str, Any]:
    ex = call.exchange
    call.who  # noqa: B018 - signed endpoint
    category = call.text("category", "linear")
    if category != "linear":
        raise ApiError(RetCode.PARAMS_ERROR, f"params error: category {category} not served")
    symbol = call.symbol(required=False)
    symbols = [symbol] if symbol else sorted(ex.instruments)
    cfg = ex.config
    return {"list": [ap.fee_rate_payload(s, cfg.taker_fee, cfg.maker_fee) for s in symbols]}


async def account_info(call: Call) -> dict[str, Any]:
    call.who  # noqa: B018 - signed endpoint
    return ap.account_info_payload(call.exchange.now_ms)


async def query_api(call: Call) -> dict[str, Any]:
    return ap.query_api_payload(call.who, call.exchange.now_ms)


async def coin_info(call: Call) -> dict[str, Any]:
    call.who  # noqa: B018 - signed endpoint
    ex = call.exchange
    coins = sorted({"USDT", *(i.base_coin for i in ex.instruments.values())})
    wanted = call.opt("coin")
    if wanted is not None:
        coins = [c for c in coins if c == wanted]
    return {"rows": [ap.coin_info_payload(c) for c in coins]}


GET: dict[str, Handler] = {
    "/v5/account/wallet-balance": wallet_balance,
    "/v5/account/fee-rate": fee_rate,
    "/v5/account/info": account_info,
    "/v5/user/query-api": query_api,
    "/v5/asset/coin/query-info": coin_info,
}
