"""The Telegram command bot (``alphadesk telegram``): python-telegram-bot wiring at the edge.

Handlers only parse (:mod:`.commands`) and render (:mod:`.render`, :mod:`.chart`); every number
comes from the control facade (:mod:`alphadesk.engine.control`). Alerts from the bus are batched
by :mod:`.batching` so a flood of fills cannot get the bot throttled by Telegram.
"""
