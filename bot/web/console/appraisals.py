"""民主评议党员 page: /console/appraisals?year=2026, the branches of the viewer's scope with their appraisal's
state (not opened, voting, closed, proposed, decided), turnout and, once the 支部大会 has decided, the grades'
distribution. Read-only: the branch records its appraisal itself (bot.web.appraisal), and no ballot or voter
is shown here (how many have voted, never who voted what)."""

from typing import Annotated

from annotated_types import Ge, Le
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.core.errors import Refused
from bot.web.api.schemas import MAX_ID
from bot.web.console.deps import ConsoleApp, viewer_type
from handlers.appraisal import grades, service
from handlers.appraisal import strings as ap
from handlers.console import strings as console_strings
from handlers.rating.service import year_of
from models.appraisal import GRADE_LABELS


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    tz = console.core.tz

    @router.get("/appraisals", response_class=HTMLResponse)
    def appraisals_page(
        request: Request, viewer: ViewerDep, year: str = "", page: Annotated[int, Ge(1), Le(MAX_ID)] = 1
    ):
        now = console.clock()
        try:
            y = year_of(year, now.astimezone(tz).date())
        except Refused as exc:
            return console.message(request, console_strings.BAD_INPUT, str(exc), status=422, viewer=viewer)
        session = viewer.session
        units, _, pages = viewer.branches_page(page)
        years = grades.branch_years(session, [u.id for u in units], y, now=now, tz=tz)
        rows = [
            {
                "unit": u,
                "y": years[u.id],
                "grades": grades.distribution_text(years[u.id]),
                "window": "至".join(service.window_text(years[u.id].appraisal, tz))
                if years[u.id].appraisal
                else "",
            }
            for u in units
        ]
        opened = sum(r["y"].appraisal is not None for r in rows)
        decided = sum(r["y"].appraisal is not None and r["y"].appraisal.decided_on is not None for r in rows)
        return console.page(
            request,
            "console/appraisals.html",
            viewer=viewer,
            nav="year",
            title=ap.CONSOLE_TITLE,
            year=y,
            rows=rows,
            explain=ap.CONSOLE_EXPLAIN,
            labels=GRADE_LABELS,
            opened=opened,
            decided=decided,
            number=page,
            pages=pages,
            tz=tz,
        )

    return router
