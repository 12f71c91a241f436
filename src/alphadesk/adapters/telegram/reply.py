"""What a command answers, before Telegram's formatting: a head line, an optional preformatted
table, an optional PNG, optional buttons. The wiring (:mod:`.bot`) escapes, splits long tables
and masks secrets; renderers never build Telegram markup themselves."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    table: str = ""
    photo: bytes | None = None
    buttons: tuple[Button, ...] = ()
