"""A local Bybit V5 exchange for tests, the demo and fault drills: ``alphadesk simulator``.

One port serves REST, both WebSockets and a control API. Market data is replayed from candle
files (``ts_ms,open,high,low,close,volume``; symbol = file-name prefix, interval from ``_5m_``,
``_4h_``...), each candle played as four ticks (open, near extreme, far extreme, close); orders
are matched by :class:`alphadesk.adapters.sim.engine.MatchingEngine`, the engine the paper venue
and the backtest use. Paths, envelopes (``retCode``, ``retMsg``, ``result``, ``retExtInfo``,
``time``), field names, string-encoded numbers and error codes are Bybit's; payload field sets
follow the real payloads recorded in ``tests/fixtures/bybit_payloads``. Only ``category=linear``
(USDT perpetuals, one-way mode) is served.

REST, public (unsigned):
  GET /v5/market/time
  GET /v5/market/instruments-info   one instrument per candle file; tick = finest price digit
                                    in the file, qty step ~5-50 USDT (max 1), minNotional 5
  GET /v5/market/kline              interval = any Bybit interval that is a multiple of the
                                    file's; start/end/limit (1..1000, default 200); newest first;
                                    the forming candle is the newest row
  GET /v5/market/tickers            lastPrice = replay price; 24h fields from the replayed bars
  GET /v5/market/funding/history    the recorded settlements beside the candles, else each
                                    settlement of the symbol's interval at the configured rate
                                    (instruments-info fundingInterval, tickers
                                    fundingIntervalHour/nextFundingTime say the same interval)
REST, private (signed: X-BAPI-API-KEY/SIGN/TIMESTAMP/RECV-WINDOW, HMAC-SHA256 of
timestamp+key+recv_window+query|body; 10002 stale timestamp, 10003 unknown key, 10004 bad sign;
every answer carries X-Bapi-Limit, X-Bapi-Limit-Status, X-Bapi-Limit-Reset-Timestamp; the order
endpoints refuse the 11th request of a key in a second with 10006, see ``RateLimits``; with no
accounts configured only the public endpoints are useful, every key gets 10003):
  POST /v5/order/create, /v5/order/amend, /v5/order/cancel, /v5/order/cancel-all
  GET  /v5/order/realtime, /v5/order/history            (limit 1..50, cursor)
  GET  /v5/position/list                                 (symbol or settleCoin)
  POST /v5/position/set-leverage, /v5/position/trading-stop
  GET  /v5/position/closed-pnl                           (limit 1..100, cursor, 7-day span)
  GET  /v5/execution/list   limit 1..100, cursor paging, span > 7 days refused with 10001,
                            one bound alone = 7 days from it, none = the last 7 days
  GET  /v5/account/wallet-balance (accountType=UNIFIED), /v5/account/fee-rate,
       /v5/account/info
  GET  /v5/user/query-api   per-account permissions (``SimAccount(withdraw=True)`` adds
                            Wallet: Withdraw, ``transfer=True`` the transfers,
                            ``read_only=True`` readOnly 1: its POSTs above answer 10005)
  GET  /v5/asset/coin/query-info  (ccxt calls it in load_markets when keys are set)
WebSocket:
  /v5/public/linear  ops ping (pong ``{"success":true,"ret_msg":"pong","op":"ping"}``),
                     subscribe/unsubscribe (ack ``{"success","ret_msg","conn_id","req_id","op"}``);
                     topics kline.{1,3,5,15,30,60,120,240,360,720,D,W}.SYMBOL (multiples of the
                     file interval; ``confirm: true`` on the closing update), tickers.SYMBOL
                     (snapshot on subscribe and on every tick), publicTrade.SYMBOL (one per tick)
  /v5/private        ops auth (``["key", expires, HMAC("GET/realtime"+expires)]``), ping (pong
                     ``{"op":"pong","args":[ms]}``), subscribe/unsubscribe; topics execution,
                     order, position, wallet (pushed on every engine event)
Control (unsigned, outside /v5): GET /sim/state, POST /sim/advance {"bars": n} | {"to_ms": t},
GET|POST|DELETE /sim/faults (POST body {"fault": name, ...}: rate_limit, timestamp_error,
server_error, lose_reply (carried out, answer replaced by HTTP 5xx), extra_rows (raw rows added
to a REST list or a private push), drop_ws_after, delay_ws, reorder_ws, duplicate_execution,
clear).

Clock: ``/v5/market/time``, the envelope ``time`` and signature checks use the real clock;
market data, order and execution times use the replay clock, which moves only on
``sim.advance(bars=n)`` / ``/sim/advance`` unless ``speed`` (simulated seconds per real second)
is given.

In-process: ``async with run_simulator(data=[csv...], accounts=[SimAccount(...)]) as sim:``
gives ``sim.base_url``, ``sim.public_ws_url``, ``sim.private_ws_url``, ``sim.advance()``,
``sim.faults`` and ``sim.exchange`` (the engine is ``sim.exchange.engine``).
"""

from alphadesk.simulator.accounts import SimAccount, load_accounts, parse_account
from alphadesk.simulator.ratelimits import LimitGroup, RateLimits
from alphadesk.simulator.server import Simulator, build_app, run_simulator

__all__ = ["LimitGroup", "RateLimits", "SimAccount", "Simulator", "build_app", "load_accounts",
           "parse_account", "run_simulator"]
