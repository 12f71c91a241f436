"""Paper trading: a bot on the paper venue, on replayed candle files or live public prices.

At the backtest's layer (it reads :mod:`alphadesk.backtest.data` and drives
:mod:`alphadesk.engine.live_driver`): :mod:`.prices` (where the bars come from, and how each
closed bar is lived), :mod:`.resume` (where a restarted replay carries on) and :mod:`.book` (the
stops file that gives a restarted paper venue its protection back). The composition of a paper
bot stays in :mod:`alphadesk.app.bot`.
"""
