"""The paper venue's position protection, kept in a file so that a restarted paper bot keeps it.

On Bybit a bot's stop-loss, take-profit and trailing stop live at the exchange and survive the
bot's restart. The paper venue lives in the bot's process: a restart rebuilds the positions from
the ledger (:meth:`PaperVenueAdapter.seed`) but the fresh venue knows nothing of their exits, so
the position would run unprotected until the strategy happened to set them again (for most
strategies: never, they are set once with the entry). The protection of every open position is
written after each replayed step (only when it changed; the file is replaced atomically) and
given back to the same positions on restart. A position whose size no longer matches the saved
one is left unprotected, with an ERROR naming it: exits sized for another position could close
too much or too little.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.protection import Protection
from alphadesk.adapters.sim.rejects import OrderRejected
from alphadesk.adapters.storage.risk_state import FileStateStore
from alphadesk.domain.errors import InvalidField

log = logging.getLogger("alphadesk.paper")
_KEY = "protection"


class PaperBook:
    def __init__(self, path: Path, engine: MatchingEngine, account: str) -> None:
        self._store = FileStateStore(path, field="paper_book.path")
        self._engine = engine
        self._account = account

    def saved(self) -> dict[str, Protection]:
        """What the file holds, by symbol; a damaged entry is refused with its field named."""
        text = self._store.get(_KEY)
        if text is None:
            return {}
        try:
            raw = json.loads(text)
        except ValueError:
            raise InvalidField("paper_book.protection", text[:80], "is not JSON") from None
        if not isinstance(raw, dict):
            raise InvalidField("paper_book.protection", text[:80], "must be an object")
        return {
            symbol: Protection.from_json(f"paper_book.protection.{symbol}", value)
            for symbol, value in raw.items()
        }

    def save(self) -> None:
        """Record the protection of every open position now (no write when nothing changed)."""
        held = {s: p.to_json() for s, p in self._engine.protections(self._account).items()}
        self._store.set(_KEY, json.dumps(held, sort_keys=True))

    def restore(self) -> list[str]:
        """Give the saved protection back to the venue's positions (seeded from the ledger just
        before); returns the symbols restored."""
        restored: list[str] = []
        for symbol, protection in sorted(self.saved().items()):
            try:
                self._engine.restore_protection(self._account, symbol, protection)
            except OrderRejected as exc:
                log.error(
                    "paper restart: %s %s left without its stop-loss/take-profit/trailing stop: %s",
                    self._account,
                    symbol,
                    exc,
                )
                continue
            log.info("paper restart: %s %s protection restored", self._account, symbol)
            restored.append(symbol)
        return restored
