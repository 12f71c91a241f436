"""``alphadesk db``: migrate the ledger schema and say where it stands.

The database is ``--url``, else ``$DATABASE_URL``, else the SQLite file ``./alphadesk.db``;
``postgresql://…`` and ``sqlite:///path`` are accepted. Output names the database with any
password masked. ``db backup`` and ``db restore`` live in :mod:`.db_backup`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.urls import parse
from alphadesk.app import settings as desk_settings
from alphadesk.app.commands import checks, db_backup


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="migrate the ledger database (Alembic)")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION")
    actions.required = True
    for name, help_text, handler in (
        ("upgrade", "apply migrations up to a revision (default: head)", _upgrade),
        ("downgrade", "undo migrations down to a revision", _downgrade),
        ("current", "print the revision the database is at", _current),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--url", default=None, help="database URL (default: $DATABASE_URL)")
        if name == "upgrade":
            action.add_argument("revision", nargs="?", default="head")
        elif name == "downgrade":
            action.add_argument("revision", help="target revision, e.g. base")
        action.set_defaults(handler=handler)
    db_backup.register_actions(actions)


def _target(args: argparse.Namespace) -> str | None:
    """``--url`` or ``DATABASE_URL``, parsed and checked to open before any migration runs;
    None (after one line naming the flag or variable) when it cannot be used."""
    try:
        return checks.database(args.url, "--url", desk_settings.load())
    except desk_settings.SettingsError as exc:
        print(f"db: {exc}", file=sys.stderr)
        return None


def _upgrade(args: argparse.Namespace) -> int:
    url = _target(args)
    if url is None:
        return 2
    applied = migrate.upgrade(url, args.revision)
    name = parse(url).redacted
    for line in applied:
        print(f"{name}: {line}")
    if not applied:
        print(f"{name}: already at {', '.join(migrate.current(url)) or 'base'}; nothing to apply")
    return 0


def _downgrade(args: argparse.Namespace) -> int:
    url = _target(args)
    if url is None:
        return 2
    undone = migrate.downgrade(url, args.revision)
    name = parse(url).redacted
    for line in undone:
        print(f"{name}: {line}")
    if not undone:
        print(f"{name}: nothing to undo")
    return 0


def _current(args: argparse.Namespace) -> int:
    url = _target(args)
    if url is None:
        return 2
    revisions = migrate.current(url)
    head = migrate.head()
    at = ", ".join(revisions) if revisions else "none (not migrated)"
    state = "up to date" if revisions == ((head,) if head else ()) else f"head is {head}"
    print(f"{parse(url).redacted}: {at} ({state})")
    return 0
