"""Bybit V5 wire types: WebSocket frames (envelope, klines, trades, book).

See :mod:`alphadesk.adapters.bybit.schemas` for the conventions.
"""
# ruff: noqa: N815

from msgspec import Raw, Struct, field

# --- websocket ---------------------------------------------------------------------------------


class WsMessage(Struct):
    """Any WS frame: a topic push (``topic``/``data``) or an op reply (auth, subscribe, pong)."""

    topic: str = ""
    type: str = ""
    id: str = ""
    ts: int = 0
    creationTime: int = 0
    data: Raw = field(default_factory=Raw)
    op: str = ""
    success: bool | None = None
    retCode: int | None = None
    retMsg: str = ""
    ret_msg: str = ""
    connId: str = ""
    conn_id: str = ""
    reqId: str = ""
    req_id: str = ""


class WsKline(Struct):
    start: int
    end: int
    interval: str
    open: str
    close: str
    high: str
    low: str
    volume: str
    confirm: bool
    timestamp: int = 0
    turnover: str = ""


class WsPublicTrade(Struct):
    T: int
    s: str
    S: str
    v: str
    p: str
    i: str
    BT: bool = False
    L: str = ""


class WsOrderbook(Struct):
    s: str
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    u: int = 0
    seq: int = 0
