"""Start-up safety: refuse a key that could move money out of the account.

A bot key needs to trade and read; a key that can withdraw or transfer between accounts turns a
leaked bot host into lost funds. So any permission in Bybit's ``Wallet`` group (``Withdraw``,
``AccountTransfer``, ``SubMemberTransfer``, ``SubMemberTransferList`` and whatever Bybit adds
there) is refused, as are the fiat payment groups that can pay funds out. A trading key must also
actually hold ``ContractTrade: Order, Position``; a read-only key is accepted only when asked for.
"""

from __future__ import annotations

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.config import mask_key
from alphadesk.adapters.bybit.errors import PermissionDenied, UnsafeApiKey
from alphadesk.adapters.bybit.models import KeyPermissions

# Groups where any permission at all can move funds out of the account.
MONEY_MOVING_GROUPS = (
    "Wallet",
    "FiatP2P",
    "FiatBybitPay",
    "FiatBitPay",
    "FiatGlobalPay",
    "BitCard",
)
TRADE_PERMISSIONS = (("ContractTrade", "Order"), ("ContractTrade", "Position"))


def key_permissions(info: w.ApiKeyInfo) -> KeyPermissions:
    return KeyPermissions(
        api_key=info.apiKey,
        read_only=bool(info.readOnly),
        permissions={group: tuple(perms) for group, perms in info.permissions.items()},
        ips=tuple(info.ips),
        is_master=info.isMaster,
        unified=bool(info.uta or info.unified),
        expires_at=info.expiredAt,
    )


def money_moving(perms: KeyPermissions) -> list[str]:
    found: list[str] = []
    for group in MONEY_MOVING_GROUPS:
        found.extend(f"{group}:{p}" for p in perms.permissions.get(group, ()))
    return found


def check_key(perms: KeyPermissions, *, account: str, trading: bool = True) -> None:
    """Raise :class:`UnsafeApiKey` (halt) for a money-moving key, or PermissionDenied for a
    trading key that cannot trade. Messages name the permissions, never the secret."""
    dangerous = money_moving(perms)
    if dangerous:
        raise UnsafeApiKey(
            f"account {account!r}: API key {mask_key(perms.api_key)} may move funds "
            f"({', '.join(dangerous)}); create a key without Wallet/transfer/withdraw permissions",
            endpoint="/v5/user/query-api",
        )
    if not trading:
        return
    missing = [f"{g}:{p}" for g, p in TRADE_PERMISSIONS if not perms.allows(g, p)]
    if perms.read_only or missing:
        why = "is read-only" if perms.read_only else f"lacks {', '.join(missing)}"
        raise PermissionDenied(
            f"account {account!r}: API key {mask_key(perms.api_key)} {why}; a trading bot "
            "needs ContractTrade Order and Position",
            endpoint="/v5/user/query-api",
        )
