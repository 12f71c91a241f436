"""The simulated venue: one matching engine for paper trading, backtests and the Bybit simulator.

Start at :class:`~alphadesk.adapters.sim.engine.MatchingEngine` (its module docstring states the
fill model), :mod:`~alphadesk.adapters.sim.feed` for candles, :mod:`~alphadesk.adapters.sim.clock`
and :mod:`~alphadesk.adapters.sim.paper` for the async paper venue.
"""
