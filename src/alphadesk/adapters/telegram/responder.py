"""Requests to answers: asks the control facade and renders; holds no figure of its own.

``/halt`` and ``/resume`` without a bot reach every bot; ``/flatten`` only ever names one bot
and is called here only after its button was pressed (see :mod:`.bot`). Each command is audited
by the facade in the ledger with the actor (``telegram:<user id> @<username>``) and the time.
"""

from __future__ import annotations

from alphadesk.engine.control import Control

from . import render
from .commands import Request
from .mutes import Mutes
from .reply import Reply


class DeskResponder:
    def __init__(self, control: Control, mutes: Mutes) -> None:
        self._control = control
        self._mutes = mutes

    async def resolve(self, bot: str) -> str:
        return await self._control.resolve(bot)

    async def flatten(self, bot: str, actor: str) -> Reply:
        receipt = await self._control.flatten(bot, actor)
        return render.receipts([receipt])

    async def answer(self, request: Request, actor: str) -> Reply:
        c, bot = self._control, request.bot
        match request.command:
            case "status":
                return render.status(await c.status(bot))
            case "positions":
                return render.positions(await c.positions(bot), bot)
            case "balance":
                return render.balances(await c.balances(bot), bot)
            case "analytics":
                return render.analytics(await c.analytics(bot), bot)
            case "performance":
                return render.performance(await c.performance(bot))
            case "daily" | "weekly" | "monthly":
                return render.pnl_table(await c.pnl_table(request.command, bot))
            case "trades":
                return render.trades(await c.trades(bot, request.count), bot)
            case "health":
                return render.health(await c.health())
            case "reconcile":
                return render.reconcile(await c.reconcile(bot), bot)
            case "halt" | "resume":
                targets = [await self.resolve(bot)] if bot else await c.bots()
                send = c.halt if request.command == "halt" else c.resume
                return render.receipts([await send(b, actor) for b in targets])
            case "mute" | "unmute":
                target = await self.resolve(bot) if bot else None
                (self._mutes.mute if request.command == "mute" else self._mutes.unmute)(target)
                return Reply(self._mutes.describe())
        raise ValueError(f"no answer for /{request.command}")
