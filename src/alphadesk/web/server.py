"""The FastAPI application: pages, login, the API router, static files, security headers.

FastAPI (over Starlette) because it documents the API as OpenAPI from the routes themselves,
validates query parameters with errors that name them, and brings Starlette's signed-cookie
sessions and static files. The HTML pages are static shells (put together once from one layout,
:mod:`alphadesk.web.pages`); their script reads the same ``/api/v1`` a script would, so the
dashboard and the API cannot disagree.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from alphadesk.domain.errors import InvalidField
from alphadesk.engine.control_views import CommandsUnreachable
from alphadesk.engine.state_ports import EventBus
from alphadesk.web import api
from alphadesk.web.auth import Authenticator, Principal, require_user, start_session
from alphadesk.web.backtests import BacktestFolder
from alphadesk.web.config import WebConfig
from alphadesk.web.live import LiveHub
from alphadesk.web.pages import render_pages
from alphadesk.web.ports import DeskControl
from alphadesk.web.ratelimit import LoginLimiter

STATIC = Path(__file__).parent / "static"
SESSION_MAX_AGE_S = 12 * 3600

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; "
       "base-uri 'none'; object-src 'none'")  # fmt: skip
# Backtest reports are self-contained files with inline styles and SVG and no script.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def create_app(
    control: DeskControl,
    bus: EventBus | None,
    config: WebConfig,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    hub = LiveHub(control, bus, poll_s=config.poll_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    app = FastAPI(
        title="AlphaDesk",
        version="1",
        summary="The desk's reads and commands over the control facade (every call needs a login).",
        openapi_url=None,  # served below, behind the login
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.control = control
    app.state.hub = hub
    app.state.auth = Authenticator(config)
    app.state.limiter = LoginLimiter(config.login_attempts, config.login_window_s, clock)
    app.state.backtests = BacktestFolder(config.backtests_dir)
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.session_secret,
        session_cookie="alphadesk_session",
        max_age=SESSION_MAX_AGE_S,
        same_site="strict",
        https_only=True,  # browsers accept Secure cookies on loopback http too
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # Origin stays on our own POSTs
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        if config.tls:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    @app.exception_handler(InvalidField)
    async def invalid_field(request: Request, exc: InvalidField) -> JSONResponse:
        code = 404 if exc.field == "bot" else 400
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=code)

    @app.exception_handler(CommandsUnreachable)
    async def unreachable(request: Request, exc: CommandsUnreachable) -> JSONResponse:
        return JSONResponse({"detail": f"not sent: {exc}"}, status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        wants_page = not request.url.path.startswith("/api/") and request.method == "GET"
        if exc.status_code == 401 and wants_page:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))  # fmt: skip

    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _pages(app, config, render_pages())
    return app




def _safe_next(target: str) -> str:
    """Only a path on this site (no scheme, no host, no ``//``) may be a redirect target."""
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or "\\" in target
            or target.startswith("//")):  # fmt: skip
        return "/"
    return target


User = Annotated[Principal, Depends(require_user)]


def _pages(app: FastAPI, config: WebConfig, html: dict[str, bytes]) -> None:
    def _page(name: str) -> HTMLResponse:
        return HTMLResponse(html[name])

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    async def openapi(user: User) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/login", include_in_schema=False)
    async def login_page() -> HTMLResponse:
        return _page("login.html")

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=200)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/",
    ) -> Response:
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.url.netloc:
            return JSONResponse({"detail": "cross-site login refused"}, status_code=403)
        limiter: LoginLimiter = app.state.limiter
        client = request.client.host if request.client else "?"
        keys = (f"ip:{client}", f"user:{username.lower()}")
        wait = limiter.retry_after(*keys)
        browser = "text/html" in request.headers.get("accept", "")
        if wait > 0:
            retry = str(int(wait) + 1)
            if browser:
                return RedirectResponse(f"/login?error=limited&retry={retry}", status_code=303,
                                        headers={"Retry-After": retry})  # fmt: skip
            return JSONResponse({"detail": f"too many failed logins; retry in {retry} s"},
                                status_code=429, headers={"Retry-After": retry})  # fmt: skip
        account = app.state.auth.check_password(username, password)
        if account is None:
            limiter.failed(*keys)
            if browser:
                return RedirectResponse("/login?error=bad", status_code=303)
            return JSONResponse({"detail": "wrong user name or password"}, status_code=401)
        start_session(request, account)
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", include_in_schema=False)
    async def overview(user: User) -> HTMLResponse:
        return _page("overview.html")

    @app.get("/bots/{bot}", include_in_schema=False)
    async def bot_page(bot: str, user: User) -> HTMLResponse:
        return _page("bot.html")

    @app.get("/backtests", include_in_schema=False)
    async def backtests_page(user: User) -> HTMLResponse:
        return _page("backtests.html")

    @app.get("/backtests/compare", include_in_schema=False)
    async def compare_page(user: User) -> HTMLResponse:
        return _page("compare.html")

    @app.get("/backtests/files/{name}", include_in_schema=False)
    async def backtest_file(name: str, user: User) -> Response:
        folder: BacktestFolder = app.state.backtests
        try:
            path = folder.path(name)
        except FileNotFoundError:
            return JSONResponse({"detail": f"name={name!r}: no such backtest file"}, 404)
        media = "text/html" if path.suffix.lower() == ".html" else "application/json"
        return FileResponse(path, media_type=media,
                            headers={"Content-Security-Policy": REPORT_CSP})  # fmt: skip
