"""The FastAPI app factory: WeCom callback, health, metrics and the JSON API, over one session factory."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.core import texts
from bot.core.context import CoreConfig
from bot.core.errors import Refused
from bot.core.relay import backlog, unconfigured
from bot.web.limits import BodyLimit
from models.base import utcnow

logger = logging.getLogger(__name__)

BACKLOG = Gauge("zhibu_outbox_backlog", "Outbox rows due and not yet sent (at the last scrape)")
STREAM_CONNECTED = Gauge("zhibu_dingtalk_stream_connected", "1 when the DingTalk stream is connected")


def create_app(
    session_factory: sessionmaker[Session],
    *,
    platforms=None,  # bot.platforms.wiring.Platforms
    relay=None,  # bot.core.relay.Relay running in this process, if any
    clock: Callable[[], datetime] = utcnow,
    core: CoreConfig | None = None,
    title: str = "zhibu 支部助手",
) -> FastAPI:
    """`core` (time zone, public URL, secret key) is the composition root's: every page, QR code and
    redirect then names the same public URL as the chat replies (None: read from the settings)."""
    from bot.web.h5 import core_from_settings

    # One CoreConfig for every part, so each feature's rules are built once and the same for all.
    core = core or core_from_settings()
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit)
    app.state.session_factory = session_factory
    app.state.platforms = platforms
    app.state.identities = platforms.identities if platforms is not None else {}
    # The JSON API's feature routers are module-level: they read the rules from here (see meetings_api).
    app.state.core = core

    if platforms is not None and platforms.wecom_router is not None:
        app.include_router(platforms.wecom_router)

    from bot.web.api import build_api_router
    from bot.web.meetings_api import meetings_api
    from bot.web.observers import observers_api

    app.include_router(build_api_router(session_factory, clock=clock, features=[observers_api, meetings_api]))
    from bot.web.h5 import build_h5_router

    app.include_router(build_h5_router(session_factory, app.state.identities, core, clock=clock))
    answer_refusals(app, session_factory, core, clock)
    from bot.web.monthly import build_monthly_router

    app.include_router(build_monthly_router(session_factory, app.state.identities, core, clock=clock))
    from bot.web.observers import build_observers_router

    app.include_router(build_observers_router(session_factory, app.state.identities, core, clock=clock))
    from bot.web.fees import build_fees_router

    app.include_router(build_fees_router(session_factory, app.state.identities, core, clock=clock))
    from bot.web.meetings import build_meetings_router

    app.include_router(build_meetings_router(session_factory, app.state.identities, core, clock=clock))

    from bot.web.appraisal import build_appraisal_router

    app.include_router(build_appraisal_router(session_factory, app.state.identities, core, clock=clock))

    from bot.web.inspection import build_inspection_router

    app.include_router(build_inspection_router(session_factory, app.state.identities, core, clock=clock))

    from bot.web.projects import build_projects_router

    app.include_router(build_projects_router(session_factory, app.state.identities, core, clock=clock))

    from bot.web.console import build_console

    build_console(app, session_factory, app.state.identities, core, clock=clock)

    def _stream_state() -> str:
        stream = getattr(platforms, "stream", None)
        if stream is None:
            return "off"
        return "connected" if stream.connected else "disconnected"

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        report: dict = {}
        healthy = True
        try:
            with session_factory() as session:
                session.execute(text("SELECT 1"))
                report["relay_backlog"] = backlog(session, clock())
                if platforms is not None:
                    # Which platforms this deployment sends on, and what waits or failed for one that is
                    # not among them: worth a look, but no reason to take the process out of service.
                    report["platforms"] = list(platforms.enabled)
                    report["unconfigured_platform"] = unconfigured(session, platforms.enabled, clock())
            report["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any driver error means unhealthy
            logger.warning("health check: database unreachable: %s", exc)
            report["database"] = "unreachable"
            healthy = False
        report["stream"] = _stream_state()
        if report["stream"] == "disconnected":
            healthy = False
        if relay is not None:
            report["relay_last_cycle"] = relay.last_cycle_at.isoformat() if relay.last_cycle_at else None
        report["status"] = "ok" if healthy else "unhealthy"
        return JSONResponse(report, status_code=200 if healthy else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics():
        try:
            with session_factory() as session:
                BACKLOG.set(backlog(session, clock()))
        except Exception:  # noqa: BLE001 - metrics must answer even when the database does not
            logger.warning("metrics: could not count the backlog")
        STREAM_CONNECTED.set(1 if _stream_state() == "connected" else 0)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def answer_refusals(
    app: FastAPI,
    session_factory: sessionmaker[Session],
    core: CoreConfig | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """One answer to a bot.core.errors.Refused from any route. The route's unit of work has already
    rolled back (the refusal left its block by raising). A browser opening a page (it accepts HTML)
    sees the H5 message page; a script (an H5 form's fetch, the JSON API) gets a 4xx JSON answer: the
    H5 shape its pages read ({"error", "fields"}), or under /api/ the API's own error shape.
    create_app installs it; an app a test builds around one feature's router installs it too."""
    from bot.web.api import PREFIX as API_PREFIX
    from bot.web.api import REFUSED
    from bot.web.h5 import H5_ROOT, H5Pages, core_from_settings

    identities = getattr(app.state, "identities", {})
    pages = H5Pages(session_factory, identities, core or core_from_settings(), prefix=H5_ROOT, clock=clock)

    @app.exception_handler(Refused)
    def refused(request: Request, exc: Refused) -> Response:
        message = str(exc)
        if request.url.path.startswith(API_PREFIX + "/"):
            # The API's convention: a well-formed request a rule refuses is a 422 (bot.web.api.refused).
            # Any other status has the API's Problem shape (a conflict, a forbidden or missing record).
            if exc.status != 400:
                return JSONResponse({"detail": message}, status_code=exc.status)
            detail = [{"loc": ["body", *exc.fields[:1]], "msg": message, "type": REFUSED}]
            return JSONResponse({"detail": detail}, status_code=422)
        if "text/html" in request.headers.get("accept", ""):
            return pages.message(request, texts.REFUSED_TITLE, message, status=exc.status)
        body: dict = {"error": message, "fields": list(exc.fields)}
        if exc.confirmable:
            body["confirm"] = True  # the H5 form asks the person and sends again, confirmed
        return JSONResponse(body, status_code=exc.status)
