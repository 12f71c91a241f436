"""Adopting the original platform's ``trading_db``: its schema moved aside, AlphaDesk's made.

The original platform (its schema: ``tests/fixtures/original_platform/schema.sql``) kept its
tables in schema ``trading``, the name AlphaDesk uses, so a plain upgrade fails on
``relation "bots" already exists``. Its rows cannot become fills either: they have no execution
id, commission 0, funding stored as trades and duplicate rows written by both the bots and the
listener. So, inside the upgrade's one transaction (see ``migrations/env.py``):

1. :meth:`Adoption.before` recognises the original schema (its tables in ``trading`` and no
   ``alembic_version``) and moves every table, view, sequence and function of ``trading``
   untouched into schema ``legacy`` (``ALTER ... SET SCHEMA``: rows, indexes, constraints,
   triggers and owned sequences travel with their table; views keep pointing at them). Nothing
   is deleted.
2. AlphaDesk's migrations then create the real ``trading`` schema.
3. :meth:`Adoption.after` carries the bots over into ``trading.bots`` and keeps the original's
   ``completed_trades`` as reference rows in ``legacy.completed_trades_corrected``: the same
   rows, with the sides of those written by the original's closed-PnL mapper swapped back (it
   stored the *closing* order's side as the entry side) and marked so (``sides_corrected``,
   ``original_entry_side``, ``original_exit_side``). They stay out of
   ``trading.completed_trades``, which holds the ledger's own round trips: once the true fills
   are backfilled from Bybit (``alphadesk sync backfill``) the same trades would be there twice.

A failure anywhere rolls the whole upgrade back, the move included.
"""

# SQL here is assembled only from module constants and catalog names quoted by PostgreSQL.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

SOURCE = "trading"
LEGACY = "legacy"
#: Tables every release of the original platform had (``position_entries`` came later).
ORIGINAL_TABLES = ("bots", "fills", "orders", "positions", "completed_trades", "sync_status")
BACKFILL_ADVICE = (
    "next: run `alphadesk sync backfill` to rebuild the true fills from Bybit (the original's "
    "fills have no execution id, commission 0, funding stored as trades and duplicate rows: "
    "they are kept in schema legacy, not imported)"
)
MAPPER_FIX = "closed-pnl mapper stored the closing side as the entry side; swapped back"


class LegacySchemaError(ValueError):
    """The original schema cannot be moved aside as it stands (the message says why)."""


def _one(connection: Connection, sql: str, **params: Any) -> Any:
    return connection.execute(text(sql), params).scalar()


def is_original(connection: Connection) -> bool:
    """The original platform's tables are in ``trading`` and Alembic never ran there (an
    AlphaDesk schema always has ``alembic_version``; the original's ``fills`` has no
    ``exec_id``)."""
    if connection.dialect.name != "postgresql":
        return False
    found = _one(
        connection,
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = :s AND table_name = ANY(:names)",
        s=SOURCE, names=list(ORIGINAL_TABLES),
    )  # fmt: skip
    if found != len(ORIGINAL_TABLES):
        return False
    version_table = f"{SOURCE}.alembic_version"
    versioned = _one(connection, "SELECT to_regclass(:t) IS NOT NULL", t=version_table)
    keyed = _one(
        connection,
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_schema = :s AND table_name = 'fills' AND column_name = 'exec_id'",
        s=SOURCE,
    )
    return not versioned and not keyed


class Adoption:
    """The two halves of an adoption, called by the migration environment around the
    revisions, in their transaction; :attr:`lines` says what was done."""

    def __init__(self) -> None:
        self.adopted = False
        self.lines: list[str] = []

    def before(self, connection: Connection) -> None:
        if not is_original(connection):
            return
        if _one(connection, "SELECT count(*) FROM pg_namespace WHERE nspname = :n", n=LEGACY):
            held = _one(connection, "SELECT count(*) FROM pg_class c JOIN pg_namespace n"
                        " ON n.oid = c.relnamespace WHERE n.nspname = :n", n=LEGACY)
            if held:
                raise LegacySchemaError(
                    f"schema {LEGACY!r} already holds {held} objects; the original platform's "
                    f"tables cannot be moved there (rename or drop it first)"
                )
        else:
            connection.execute(text(f"CREATE SCHEMA {LEGACY}"))
        moved = self._move(connection)
        self.adopted = True
        self.lines.append(
            "found the original platform's schema in 'trading' (no AlphaDesk version): moved "
            f"{moved} untouched into schema '{LEGACY}'"
        )

    def _move(self, connection: Connection) -> str:
        kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW",
                 "S": "SEQUENCE", "f": "FOREIGN TABLE"}  # fmt: skip
        relations = connection.execute(text(
            "SELECT c.relkind::text, format('%I.%I', n.nspname, c.relname)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
            # a sequence owned by a column moves with its table
            " AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d"
            "   WHERE d.objid = c.oid AND d.deptype = 'a' AND d.classid = 'pg_class'::regclass))"
            " ORDER BY c.relkind = 'r' DESC, c.relname"
        ), {"s": SOURCE}).all()  # fmt: skip
        counts: dict[str, int] = {}
        for kind, name in relations:
            keyword = kinds[kind]
            connection.execute(text(f"ALTER {keyword} {name} SET SCHEMA {LEGACY}"))
            counts[keyword] = counts.get(keyword, 0) + 1
        functions = connection.execute(text(
            "SELECT format('%I.%I(%s)', n.nspname, p.proname,"
            " pg_get_function_identity_arguments(p.oid)), p.prokind::text"
            " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s"
        ), {"s": SOURCE}).all()  # fmt: skip
        for signature, prokind in functions:
            keyword = "PROCEDURE" if prokind == "p" else "FUNCTION"
            connection.execute(text(f"ALTER {keyword} {signature} SET SCHEMA {LEGACY}"))
            counts["FUNCTION"] = counts.get("FUNCTION", 0) + 1
        return ", ".join(f"{n} {k.lower()}{'s' if n > 1 else ''}" for k, n in counts.items())

    def after(self, connection: Connection) -> None:
        if not self.adopted:
            return
        bots = connection.execute(text(
            f"INSERT INTO {SOURCE}.bots (bot_id, bot_name, bot_type, strategy_name, status,"
            " deployment_mode, initial_capital, current_equity, last_heartbeat, created_at,"
            " updated_at)"
            " SELECT bot_id, bot_name, bot_type, strategy_name, COALESCE(status, 'active'),"
            " deployment_mode, initial_capital, current_equity, last_heartbeat,"
            " COALESCE(created_at, now()), COALESCE(updated_at, now())"
            f" FROM {LEGACY}.bots ORDER BY bot_id"
        )).rowcount  # fmt: skip
        self.lines.append(f"carried {bots} bots over into trading.bots")
        inverted = (
            "(t.source = 'bybit_api' AND t.trade_id ~ '_[0-9]{13}$'"
            " AND left(t.trade_id, length(t.bot_id) + length(t.symbol) + 2)"
            " = t.bot_id || '_' || t.symbol || '_')"
        )
        connection.execute(text(
            f"CREATE TABLE {LEGACY}.completed_trades_corrected AS"
            f" SELECT t.*, {inverted} AS sides_corrected,"
            " t.entry_side AS original_entry_side, t.exit_side AS original_exit_side,"
            f" CASE WHEN {inverted} THEN :fix ELSE '' END AS correction"
            f" FROM {LEGACY}.completed_trades t ORDER BY t.id"
        ), {"fix": MAPPER_FIX})  # fmt: skip
        connection.execute(text(
            f"UPDATE {LEGACY}.completed_trades_corrected SET"
            " entry_side = original_exit_side, exit_side = original_entry_side,"
            " entry_reason = CASE entry_reason WHEN 'long_entry' THEN 'short_entry'"
            "   WHEN 'short_entry' THEN 'long_entry' ELSE entry_reason END,"
            " exit_reason = CASE exit_reason WHEN 'long_exit' THEN 'short_exit'"
            "   WHEN 'short_exit' THEN 'long_exit' ELSE exit_reason END"
            " WHERE sides_corrected"
        ))  # fmt: skip
        connection.execute(text(
            f"ALTER TABLE {LEGACY}.completed_trades_corrected ADD PRIMARY KEY (id)"
        ))
        connection.execute(text(
            f"COMMENT ON TABLE {LEGACY}.completed_trades_corrected IS 'The original platform''s"
            " completed_trades as reference rows (not the ledger''s round trips); sides of the"
            " closed-pnl mapper''s rows swapped back where sides_corrected'"
        ))  # fmt: skip
        total = _one(connection, f"SELECT count(*) FROM {LEGACY}.completed_trades_corrected")
        fixed = _one(connection, f"SELECT count(*) FROM {LEGACY}.completed_trades_corrected"
                                 " WHERE sides_corrected")  # fmt: skip
        self.lines.append(
            f"kept {total} completed trades as reference rows in "
            f"{LEGACY}.completed_trades_corrected ({fixed} with inverted sides corrected and "
            "marked sides_corrected)"
        )
        self.lines.append(BACKFILL_ADVICE)
