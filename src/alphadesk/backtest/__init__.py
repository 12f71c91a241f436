"""Backtests: the same Engine and strategy objects over history, with the simulated venue.

Start at :func:`alphadesk.backtest.runner.run`.
"""
