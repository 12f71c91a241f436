"""How the control facade finds the bots a question names.

A bot is named by its id (``shortseller_001``) or, when exactly one bot runs it, by its strategy
name (``shortseller``); anything else raises :class:`UnknownBot`, listing the known ids. Every
part of the facade resolves names here so a name means the same bot to every question.
"""

from __future__ import annotations

from collections.abc import Sequence

from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.control_ports import ControlLedger
from alphadesk.engine.control_views import UnknownBot


async def find_bots(ledger: ControlLedger, name: str | None) -> list[BotRecord]:
    """The bots a question is about: all of them for None, else the one ``name`` names."""
    records = await ledger.bots()
    if name is None:
        return records
    if not isinstance(name, str) or not name.strip():
        raise UnknownBot(name, tuple(r.bot_id for r in records))
    wanted = name.strip()
    for record in records:
        if record.bot_id == wanted:
            return [record]
    by_strategy = [
        r for r in records if wanted.lower() in (r.strategy_name.lower(), r.bot_type.lower())
    ]
    if len(by_strategy) == 1:
        return by_strategy
    raise UnknownBot(name, tuple(r.bot_id for r in records))


def one_bot(bot: str | None, records: Sequence[BotRecord]) -> str | None:
    """The bot id when the question names one bot."""
    return records[0].bot_id if bot is not None and len(records) == 1 else None
