"""``alphadesk web``: the desk in a browser and a REST API over the control facade.

Everything shown or commanded here goes through :class:`alphadesk.engine.control.Control`, the
same facade Telegram and the CLI call, so the dashboard has no second source of numbers. This
package owns the HTTP surface only (FastAPI app, authentication, sessions, CSRF, server-sent
events, static pages); ``app/commands/web.py`` wires it to the ledger and the live state.
"""
