"""Performance metrics as pure functions over fills, round trips and equity points.

The same functions score a backtest and the live ledger, so a number on the dashboard and a number
in a backtest report mean the same thing. Only the domain is imported (and numpy for curves that
may hold a million points).
"""
