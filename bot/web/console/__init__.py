"""The organisation department's web console at /console: login, overview, people, audit log.

build_console() mounts it on the app: the vendored static assets (htmx, ECharts: county intranets have
no internet, so nothing comes from a CDN), one router per part, and the answer to LoginRequired.
Every part takes the same ConsoleApp and reads through the Viewer dependency (deps.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.core.context import CoreConfig
from bot.web.console import (
    appraisals,
    audit,
    auth,
    inspection,
    ledgers,
    ledgers_messages,
    ledgers_observers,
    liaison_scope,
    lifemeetings,
    observer_ratings,
    overview,
    people,
    projects,
    ratings,
    year,
    year_reports,
)
from bot.web.console.deps import PREFIX, ConsoleApp, LoginRequired, login_url
from handlers.console import strings
from handlers.console.sessions import ConsoleConfig, console_config

STATIC = Path(__file__).parents[1] / "static" / "console"


def build_console(
    app: FastAPI,
    session_factory: sessionmaker[Session],
    identities: Mapping[str, Any],
    core: CoreConfig,
    *,
    clock: Callable[[], datetime],
    cfg: ConsoleConfig | None = None,
) -> ConsoleApp:
    console = ConsoleApp(session_factory, identities, core, clock, cfg or console_config(core))
    app.state.console = console  # what `zhibu serve` warms (ConsoleApp.warm)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    parts = (auth, overview, people, audit, ledgers, ledgers_observers, ledgers_messages, year, ratings)
    parts += (lifemeetings, appraisals, observer_ratings, year_reports, projects, inspection)
    parts += (liaison_scope,)  # the top bar's 只看包保党委 / 查看全县
    for part in parts:
        app.include_router(part.build_router(console), prefix=PREFIX, include_in_schema=False)

    @app.exception_handler(LoginRequired)
    def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.method == "GET" and not request.headers.get("HX-Request"):
            return RedirectResponse(login_url(exc.next_url), status_code=303)
        # An htmx request follows HX-Redirect; a script reads the 401.
        return JSONResponse(
            {"error": "请先登录管理后台。"}, status_code=401, headers={"HX-Redirect": login_url()}
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # A console page opened with a malformed address (?year=abc, a typed-over form box) answers in
        # Chinese on a page, not FastAPI's English JSON; everything else keeps the default answer.
        if request.url.path.startswith(PREFIX + "/") and "text/html" in request.headers.get("accept", ""):
            fields = "、".join(dict.fromkeys(str(e["loc"][-1]) for e in exc.errors() if e.get("loc")))
            text = strings.BAD_ADDRESS.format(fields=fields or "?")
            return console.message(request, strings.BAD_INPUT, text, status=400)
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # A console form sent from a page left open too long (CSRF_FAILED) or with a file over the limit
        # (bot.web.limits) answers a browser with a Chinese page, not {"detail": …}; htmx and scripts,
        # and every other path, keep the default JSON answer.
        wants_page = "text/html" in request.headers.get("accept", "") and not request.headers.get(
            "HX-Request"
        )
        if request.url.path.startswith(PREFIX + "/") and wants_page and isinstance(exc.detail, str):
            title = strings.NOT_FOUND_TITLE if exc.status_code == 404 else strings.NOT_DONE_TITLE
            return console.message(request, title, exc.detail, status=exc.status_code)
        return await http_exception_handler(request, exc)

    return console
