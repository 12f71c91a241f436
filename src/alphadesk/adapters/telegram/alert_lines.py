"""One line of text per fill or alert pushed to the admins. Pure.

Alert kinds the desk raises (``domain/alerts.py`` values on ``events:alerts``) get a title; an
unknown kind still shows, under its own name, so a new alert is never silently dropped.
"""

from __future__ import annotations

from decimal import Decimal

from alphadesk.domain.alerts import Alert
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill

TITLES = {
    "forced_fill": "FORCED FILL (ADL/bust)",
    "kill_switch": "KILL SWITCH tripped",
    "listener_disconnected": "LISTENER disconnected",
    "reconcile_mismatch": "RECONCILE mismatch",
    "position_mismatch": "POSITION mismatch",
    "spool_growing": "SPOOL growing (database unreachable?)",
    "dead_letter": "DEAD LETTER (a row the ledger refused)",
}


def money(value: Decimal) -> str:
    """Exact, plain notation, no trailing zeros (``100.10`` -> ``100.1``, ``-0`` -> ``0``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def fill_line(fill: Fill) -> str:
    if not fill.exec_type.moves_position:
        return f"{fill.bot_id}: {fill.exec_type.value.lower()} {fill.symbol} fee {money(fill.fee)}"
    side = "BUY" if fill.side is Side.BUY else "SELL"
    forced = f" [{fill.exec_type.value}]" if fill.exec_type.is_forced else ""
    return (f"{fill.bot_id}: {side} {money(fill.qty)} {fill.symbol} @ {money(fill.price)}"
            f" fee {money(fill.fee)}{forced}")  # fmt: skip


def alert_line(alert: Alert) -> str:
    title = TITLES.get(alert.kind, alert.kind.replace("_", " ").upper())
    where = "/".join(p for p in (alert.account, alert.symbol) if p)
    head = f"⚠ {title}" + (f" {where}" if where else "")
    return f"{head}: {alert.message}"
