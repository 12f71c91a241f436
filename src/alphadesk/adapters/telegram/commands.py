"""The bot's commands: what each accepts, its usage line, and the parser. Pure.

A malformed command never reaches the facade: :func:`parse` raises :class:`UsageError` with the
command's one-line usage, which the handler sends back as is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

#: A bot named in a command: an id (``shortseller_001``) or a strategy name (``lxalgo``).
_BOT = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,49}")
MAX_TRADES = 50
DEFAULT_TRADES = 10


class Args(Enum):
    NONE = "none"
    OPTIONAL_BOT = "optional bot"
    BOT = "bot"
    TRADES = "count and bot, both optional"


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    args: Args
    summary: str

    @property
    def usage(self) -> str:
        tail = {Args.NONE: "", Args.OPTIONAL_BOT: " [BOT]", Args.BOT: " BOT",
                Args.TRADES: " [N] [BOT]"}[self.args]  # fmt: skip
        return f"/{self.name}{tail}"


SPECS: tuple[Spec, ...] = (
    Spec("start", Args.NONE, "what this bot is"),
    Spec("help", Args.NONE, "this list"),
    Spec("status", Args.OPTIONAL_BOT, "mode, trading state, heartbeat, positions, listener, sync"),
    Spec("positions", Args.OPTIONAL_BOT, "open positions with unrealised PnL"),
    Spec("balance", Args.OPTIONAL_BOT, "latest equity per bot and the total"),
    Spec("analytics", Args.OPTIONAL_BOT, "fills, volume, win rate, by strategy, top symbols"),
    Spec("performance", Args.OPTIONAL_BOT, "metrics and the equity curve"),
    Spec("daily", Args.OPTIONAL_BOT, "PnL per day"),
    Spec("weekly", Args.OPTIONAL_BOT, "PnL per week"),
    Spec("monthly", Args.OPTIONAL_BOT, "PnL per month"),
    Spec("trades", Args.TRADES, f"the newest round trips (N up to {MAX_TRADES})"),
    Spec("health", Args.NONE, "listener, sync, spool, dead letters, bus"),
    Spec("reconcile", Args.OPTIONAL_BOT, "ledger vs exchange differences (read-only)"),
    Spec("halt", Args.OPTIONAL_BOT, "stop opening positions (exits still managed)"),
    Spec("resume", Args.OPTIONAL_BOT, "trade again after a halt"),
    Spec("flatten", Args.BOT, "close the bot's positions (asks to confirm)"),
    Spec("mute", Args.OPTIONAL_BOT, "stop fill alerts (of one bot or all)"),
    Spec("unmute", Args.OPTIONAL_BOT, "fill alerts again"),
)
BY_NAME = {spec.name: spec for spec in SPECS}


class UsageError(ValueError):
    """A command the bot cannot read; ``usage`` is the reply."""

    def __init__(self, spec: Spec, why: str) -> None:
        self.spec = spec
        self.usage = f"{why}. Usage: {spec.usage}"
        super().__init__(self.usage)


@dataclass(frozen=True, slots=True)
class Request:
    command: str
    bot: str | None = None
    count: int = DEFAULT_TRADES


def parse(command: str, args: Sequence[str]) -> Request:
    """``command`` without the slash; ``args`` as Telegram split them."""
    spec = BY_NAME.get(command)
    if spec is None:
        raise KeyError(command)
    words = [a for a in args if a]
    if spec.args is Args.NONE:
        if words:
            raise UsageError(spec, f"/{command} takes no arguments")
        return Request(command)
    if spec.args is Args.TRADES:
        return _trades(spec, words)
    if len(words) > 1:
        raise UsageError(spec, "too many arguments")
    if not words:
        if spec.args is Args.BOT:
            raise UsageError(spec, "which bot?")
        return Request(command)
    return Request(command, bot=_bot(spec, words[0]))


def _bot(spec: Spec, word: str) -> str:
    if not _BOT.fullmatch(word):
        raise UsageError(spec, f"{word[:40]!r} is not a bot name")
    return word


def _trades(spec: Spec, words: list[str]) -> Request:
    count: int | None = None
    bot: str | None = None
    if len(words) > 2:
        raise UsageError(spec, "too many arguments")
    for word in words:
        if word.isascii() and word.isdigit():
            if count is not None:
                raise UsageError(spec, "one count only")
            count = int(word)
            if not 1 <= count <= MAX_TRADES:
                raise UsageError(spec, f"N must be 1 to {MAX_TRADES}")
        elif bot is None:
            bot = _bot(spec, word)
        else:
            raise UsageError(spec, "one bot only")
    return Request("trades", bot=bot, count=count or DEFAULT_TRADES)


def help_text() -> str:
    lines = ["Commands (BOT: an id or strategy name; without it, the whole desk):"]
    lines += [f"{spec.usage} — {spec.summary}" for spec in SPECS]
    return "\n".join(lines)
