"""Pure trading domain: no I/O, standard library only, Decimal money, UTC time.

Everything here is deterministic so that the same fills give the same positions, round trips and
PnL in a backtest, in paper trading and live.
"""
