"""The monthly digest on the web: /h5/monthly/{unit}/{YYYY-MM} (the page) and …/chart.png (the image).

Wiring (the app factory)::

    from bot.web.monthly import build_monthly_router
    app.include_router(build_monthly_router(session_factory, app.state.identities, core_config))

(create_app includes it with core_config=None: tz, public URL and secret key come from the settings.)

The page uses the shared H5 identity (bot.web.h5: a platform auth code exchanged for the signed
session cookie every H5 page accepts; the exchange is mounted here too), and shows only what the person's roles allow: a
branch secretary their own branch, committee leaders their committee and its branches, 组织部 staff
everything under their unit. The chart is fetched by the chat platform without a cookie, so its URL
carries a signed token for that unit and month (handlers.monthly.digest.chart_url).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Annotated

from annotated_types import Ge, Le
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot.web.api import MAX_ID
from bot.web.h5 import H5Pages, feature_router
from handlers.lifemeeting.config import lifemeeting_config
from handlers.meetings.types import meetings_config
from handlers.monthly import digest, strings
from handlers.monthly.chart import NoCJKFont
from handlers.monthly.config import MonthlyConfig, monthly_config
from handlers.monthly.service import parse_period
from handlers.talks.config import talks_config

logger = logging.getLogger(__name__)

PREFIX = digest.H5_PREFIX
# A unit's id, or 0 for the whole tree (组织部 staff); never past the database's integer range.
UnitOrAll = Annotated[int, Ge(0), Le(MAX_ID)]
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def markdown_html(text: str) -> str:
    """The digest's small markdown (paragraphs, **bold**, "- " lists) as HTML, escaped first."""
    out = []
    for block in text.split("\n\n"):
        lines = [_BOLD.sub(r"<b>\1</b>", html.escape(line)) for line in block.split("\n")]
        if all(line.startswith("- ") for line in lines):
            out.append("<ul>" + "".join(f"<li>{line[2:]}</li>" for line in lines) + "</ul>")
        else:
            out.append("<p>" + "<br>".join(lines) + "</p>")
    return "\n".join(out)


# core None: the settings' (H5Pages fails rather than sign links with a made-up key)
@feature_router(prefix=PREFIX, not_member=(strings.WEB_TITLE, strings.NOT_BOUND))
def build_monthly_router(h5: H5Pages, *, mcfg: MonthlyConfig | None = None) -> APIRouter:
    session_factory, clock, core = h5.session_factory, h5.clock, h5.core
    router = h5.router()
    secret = core.secret_key
    session_person, page = h5.person, h5.page

    def cfg() -> MonthlyConfig:
        return mcfg or monthly_config(core)

    def message(request: Request, text: str, status: int) -> HTMLResponse:
        return h5.message(request, strings.WEB_TITLE, text, status)

    @router.get("/{unit_id}/{month}/chart.png")
    def chart_png(unit_id: UnitOrAll, month: str, t: str = ""):
        try:
            m = parse_period(month)
        except ValueError:
            return JSONResponse({"error": "bad month, expected YYYY-MM"}, status_code=400)
        if not digest.chart_token_ok(secret, t, unit_id, m, clock()):
            return JSONResponse({"error": "bad or expired token"}, status_code=403)
        with session_factory() as session:
            data = digest.load(session, m, meetings_config(core), with_details=False, scope=unit_id)
            if not digest.available(data, unit_id):
                return JSONResponse({"error": "no scores for this unit and month"}, status_code=404)
            try:
                png = digest.chart_for(data, unit_id, cfg().chart_max_bars)
            except NoCJKFont as exc:
                logger.error("monthly chart: %s", exc)
                return JSONResponse({"error": str(exc)}, status_code=503)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/{unit_id}/{month}")
    def view(request: Request, unit_id: UnitOrAll, month: str):
        try:
            m = parse_period(month)
        except ValueError:
            return message(request, strings.WEB_BAD_MONTH, 400)
        with session_factory() as session:
            person = session_person(request, session)
            if person is None:
                return h5.identify(request)
            data = digest.load(
                session, m, meetings_config(core), scope=unit_id, talks=talks_config(core),
                life=lifemeeting_config(core),
            )  # fmt: skip
            if not digest.can_view(session, person.id, unit_id, cfg(), data.units):
                return message(request, strings.WEB_FORBIDDEN, 403)
            if not digest.available(data, unit_id):
                return message(request, strings.WEB_NOT_FOUND, 404)
            title = strings.DIGEST_TITLE.format(
                month=strings.fmt_month(m), unit=digest.unit_name(data, unit_id)
            )
            body = markdown_html(digest.text_for(data, unit_id, cfg().committee_kinds))
            chart = digest.chart_url("", secret, unit_id, m, clock())  # same host: a relative URL
            viewer = person.name
        return page(request, "monthly/view.html", title=title, body=body, chart=chart, viewer=viewer)

    return router
