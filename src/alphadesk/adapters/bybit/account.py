"""The account and the key: wallet balance, fee rates, and what the key is allowed to do."""

from __future__ import annotations

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.models import FeeRate, KeyPermissions
from alphadesk.adapters.bybit.parse import wallet_reported
from alphadesk.adapters.bybit.parse_market import fee_rate_from_info
from alphadesk.adapters.bybit.permissions import check_key, key_permissions
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.bybit.wire import MalformedPayload, utc_ms
from alphadesk.domain.events import WalletReported

ACCOUNT_TYPE = "UNIFIED"


class Account:
    def __init__(self, rest: BybitRest) -> None:
        self._rest = rest

    async def wallet(self) -> WalletReported:
        reply = await self._rest.get(
            "privateGetV5AccountWalletBalance",
            {"accountType": ACCOUNT_TYPE},
            endpoint="/v5/account/wallet-balance",
            result_type=w.WalletResult,
        )
        if not reply.result.list:
            raise MalformedPayload("wallet-balance.list", [], "is empty for a UNIFIED account")
        at = utc_ms("wallet-balance.time", reply.time_ms)
        return wallet_reported(reply.result.list[0], self._rest.config.account, at=at)

    async def fee_rates(self, symbol: str | None = None) -> list[FeeRate]:
        params: dict[str, str] = {"category": "linear"}
        if symbol:
            params["symbol"] = symbol
        reply = await self._rest.get(
            "privateGetV5AccountFeeRate",
            params,
            endpoint="/v5/account/fee-rate",
            result_type=w.FeeRateResult,
        )
        return [fee_rate_from_info(f) for f in reply.result.list]

    async def key_permissions(self) -> KeyPermissions:
        reply = await self._rest.get(
            "privateGetV5UserQueryApi",
            {},
            endpoint="/v5/user/query-api",
            result_type=w.ApiKeyInfo,
        )
        return key_permissions(reply.result)

    async def check_key(self, *, trading: bool = True) -> KeyPermissions:
        """Refuse (raise, action halt) a key that can move funds, or cannot trade when it must."""
        perms = await self.key_permissions()
        check_key(perms, account=self._rest.config.account, trading=trading)
        return perms
