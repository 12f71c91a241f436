"""One module per ``alphadesk`` sub-command; each exposes ``register(subparsers)``.

A command module is found by name in :data:`COMMANDS`, so adding a command never means editing
another command's code, and a command whose optional dependencies are missing fails on its own.
"""

COMMANDS: tuple[str, ...] = (
    "db", "simulator", "backtest", "demo", "bot", "listener", "state",
    "reconcile",
    "trades",
    "sync",
    "strategies",
    "health",
    "data",
    "telegram",
    "control",
    "web",
    "sweep",
    "run",
)
