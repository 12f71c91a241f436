"""Parameter sweeps: many backtests of one strategy over a parameter space, searched in-sample and
reported out-of-sample (walk-forward), on local processes or a Dask cluster.

Pure parts (no I/O): :mod:`.space` (the grid syntax, grid and random sets), :mod:`.walkforward`
(the windows), :mod:`.ranking`. :mod:`.task` runs one backtest and keeps only its summary;
:mod:`.search` drives a sweep over an :class:`~alphadesk.sweep.ports.Executor` and a
:class:`~alphadesk.sweep.ports.ResultLog`; :mod:`.local` and :mod:`.cluster` are the
executors, :mod:`.store` the resumable results file. ``alphadesk sweep``
(``app/commands/sweep.py``) wires them.
"""
