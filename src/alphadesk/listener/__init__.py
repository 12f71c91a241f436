"""The listener: the one process that records every trading account's fills, orders, positions
and wallets, and publishes the public market (:mod:`.service`).

At the backtest's layer: it drives adapters (the Bybit sockets and REST) and the engine (the
ingest, the inbox, the gap-fill); which accounts and stores it gets is decided in
:mod:`alphadesk.app` (``alphadesk listener``).
"""
