"""Which bots' fills are not pushed (``/mute BOT``, ``/mute`` for all). Alerts are never muted:
a forced fill or a tripped kill switch always reaches the admins. In memory: a restart unmutes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Mutes:
    everything: bool = False
    bots: set[str] = field(default_factory=set)

    def mute(self, bot: str | None) -> None:
        if bot is None:
            self.everything = True
        else:
            self.bots.add(bot)

    def unmute(self, bot: str | None) -> None:
        if bot is None:
            self.everything = False
            self.bots.clear()
        else:
            self.bots.discard(bot)

    def muted(self, bot: str) -> bool:
        return self.everything or bot in self.bots

    def describe(self) -> str:
        if self.everything:
            return "fill alerts: muted for every bot"
        if self.bots:
            return "fill alerts: muted for " + ", ".join(sorted(self.bots))
        return "fill alerts: on for every bot"
