"""Bybit V5 wire types: the account, the key, and the REST envelope.

See :mod:`alphadesk.adapters.bybit.schemas` for the conventions.
"""
# ruff: noqa: N815

from msgspec import Raw, Struct, field

# --- account / user ----------------------------------------------------------------------------


class CoinBalance(Struct):
    coin: str
    equity: str = ""
    walletBalance: str = ""
    availableToWithdraw: str = ""
    availableToBorrow: str = ""
    unrealisedPnl: str = ""
    cumRealisedPnl: str = ""
    usdValue: str = ""
    borrowAmount: str = ""
    accruedInterest: str = ""
    locked: str = ""
    totalOrderIM: str = ""
    totalPositionIM: str = ""
    totalPositionMM: str = ""
    spotBorrow: str = ""
    bonus: str = ""
    collateralSwitch: bool | None = None
    marginCollateral: bool | None = None


class WalletInfo(Struct):
    """REST spells ``totalPerpUPL``, the ``wallet`` topic ``totalPerpUpl``; both are kept."""

    totalEquity: str
    totalWalletBalance: str
    totalAvailableBalance: str = ""
    totalMarginBalance: str = ""
    totalPerpUPL: str = ""
    totalPerpUpl: str = ""
    totalInitialMargin: str = ""
    totalMaintenanceMargin: str = ""
    accountIMRate: str = ""
    accountMMRate: str = ""
    accountLTV: str = ""
    accountType: str = ""
    coin: list[CoinBalance] = field(default_factory=list)


class WalletResult(Struct):
    list: list[WalletInfo]


class FeeRateInfo(Struct):
    symbol: str
    takerFeeRate: str
    makerFeeRate: str
    baseCoin: str = ""


class FeeRateResult(Struct):
    list: list[FeeRateInfo]


class AccountInfo(Struct):
    marginMode: str = ""
    updatedTime: str = ""
    unifiedMarginStatus: int = 0
    dcpStatus: str = ""
    timeWindow: int = 0
    smpGroup: int = 0
    isMasterTrader: bool = False
    spotHedgingStatus: str = ""


class ApiKeyInfo(Struct):
    """``/v5/user/query-api`` (and the sub-key list): what this key may do."""

    apiKey: str = ""
    id: str = ""
    note: str = ""
    readOnly: int | bool = 0
    permissions: dict[str, list[str]] = field(default_factory=dict)
    ips: list[str] = field(default_factory=list)
    type: int = 0
    deadlineDay: int = 0
    expiredAt: str = ""
    createdAt: str = ""
    unified: int = 0
    uta: int = 0
    userID: int = 0
    isMaster: bool = False
    parentUid: str = ""
    vipLevel: str = ""
    status: int = 0


class SubApiKeysResult(Struct):
    result: list[ApiKeyInfo]
    nextPageCursor: str = ""


class SubMember(Struct):
    uid: str
    username: str = ""
    memberType: int = 0
    status: int = 0
    remark: str = ""
    accountMode: int = 0


class SubMembersResult(Struct):
    subMembers: list[SubMember]
    nextCursor: str = ""


class Response(Struct):
    """The REST envelope; ``result`` is decoded by the caller into the endpoint's own type."""

    retCode: int
    retMsg: str = ""
    result: Raw = field(default_factory=Raw)
    time: int = 0
