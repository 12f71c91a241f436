"""Bybit V5 return codes the simulator answers with, and the error that carries one.

Handlers raise :class:`ApiError`; the envelope layer turns it into Bybit's JSON with the same
``retCode`` and a message worded like the exchange's, so clients' error mapping is exercised for
real.
"""

from __future__ import annotations

from enum import IntEnum


class RetCode(IntEnum):
    OK = 0
    PARAMS_ERROR = 10001
    TIMESTAMP = 10002
    INVALID_KEY = 10003
    BAD_SIGN = 10004
    PERMISSION_DENIED = 10005
    RATE_LIMIT = 10006
    SERVER_ERROR = 10016
    ORDER_NOT_EXISTS = 110001
    POSITION_NOT_MODIFIED = 34040


class ApiError(Exception):
    """A Bybit error answer: ``ret_code`` and ``ret_msg`` go into the envelope as they are."""

    def __init__(self, ret_code: int, ret_msg: str, http_status: int = 200) -> None:
        self.ret_code = int(ret_code)
        self.ret_msg = ret_msg
        self.http_status = http_status
        super().__init__(f"{self.ret_code}: {ret_msg}")
