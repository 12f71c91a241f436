"""The market-data folder: candles and funding rates as Parquet, instrument rules as Bybit JSON.

One flat folder (``ALPHADESK_DATA_DIR``, default ``./data/market``) that ``alphadesk data``
fills and the backtest, the simulator, the paper bot and the demo read:

* ``{SYMBOL}_{interval}_bybit.parquet`` - candles, columns ``ts_ms`` (bar open, epoch ms UTC,
  int64), ``open``, ``high``, ``low``, ``close``, ``volume`` (float64, volume in base coin),
  oldest first, one row per bar;
* ``{SYMBOL}_funding_bybit.parquet`` - funding settlements, ``ts_ms`` and ``funding_rate``;
* ``instruments_linear.json`` - Bybit's ``/v5/market/instruments-info`` reply (its ``list``
  items unchanged), merged per symbol.

Candle CSVs (``ts_ms,open,high,low,close,volume``) and funding CSVs (``ts_ms,funding_rate``) are
read the same way, so the bundled files and a user's own files need no conversion.
"""
