"""支部年度评定 page: /console/ratings?year=2026, the branches of the viewer's scope with the software's
proposal and its reasons, the committee's grade, and a form per row for those who rate (the 书记/副书记/组织委员
of a 党委 above the branch, or 组织部: handlers.rating.service.can_rate). A branch outside the scope answers 404,
a branch the viewer sees but may not rate (their own branch) 403, a bad grade or a change without a reason 422,
each with the reason and nothing changed. A year is confirmed once it is over (service.confirm_opens): before
then the page shows the proposal and the day confirmation opens, no form; a year still to come is 422."""

from typing import Annotated

from annotated_types import Ge, Le
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from bot.core.errors import Refused
from bot.web.api.schemas import MAX_ID, Id
from bot.web.console.deps import PREFIX, ConsoleApp, Viewer, viewer_type
from handlers.common.dates import fmt_full_day
from handlers.console import strings as console_strings
from handlers.lifemeeting.config import lifemeeting_config
from handlers.rating import service
from handlers.rating import strings as rs
from handlers.rating.config import rating_config
from models.org import OrgUnit, Person, UnitKind
from models.rating import GRADE_LABELS, GRADE_ORDER


def _saved_notice(rows: list[dict], saved: int | None, year: int) -> str:
    """After a decision, the page says what was saved, from the row itself (never text from the URL)."""
    for row in rows:
        r = row["rating"]
        if row["unit"].id == saved and r is not None and r.confirmed_grade is not None:
            return rs.SAVED.format(branch=row["unit"].name, year=year, grade=GRADE_LABELS[r.confirmed_grade])
    return ""


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    tz = console.core.tz

    def render(
        request: Request, viewer: Viewer, year: int, number: int, *, status: int = 200, problem: str = "",
        saved: int | None = None, form: dict | None = None,
    ) -> HTMLResponse:  # fmt: skip
        session = viewer.session
        cfg = rating_config(console.core)
        units, _, pages = viewer.branches_page(number)
        who = service.rater(session, viewer.person.id, cfg)
        opens = service.confirm_opens(year, cfg)
        open_now = console.clock().astimezone(tz).date() >= opens
        ratings = service.refresh(
            session, [u.id for u in units], year, now=console.clock(), tz=tz, cfg=cfg,
            life=lifemeeting_config(console.core),
        )  # fmt: skip
        raters = {
            p.id: p.name
            for p in session.scalars(
                select(Person).where(Person.id.in_({r.confirmed_by_id for r in ratings.values()} - {None}))
            )
        }
        rows = [
            {
                "unit": u,
                "rating": ratings.get(u.id),
                "can_rate": open_now and who.rates(u),
                "by": raters.get(ratings[u.id].confirmed_by_id, "") if u.id in ratings else "",
            }
            for u in units
        ]
        return console.page(
            request,
            "console/ratings.html",
            viewer=viewer,
            status_code=status,
            nav="year",
            title=rs.TITLE,
            year=year,
            rows=rows,
            labels=GRADE_LABELS,
            grades=GRADE_ORDER,
            rs=rs,
            tz=tz,
            number=number,
            pages=pages,
            problem=problem,
            notice=_saved_notice(rows, saved, year),
            form=form or {},
            opens_line="" if open_now else rs.OPENS.format(year=year, opens=fmt_full_day(opens)),
        )

    def the_year(text: str) -> int:
        return service.ratable_year(text, console.clock().astimezone(tz).date())

    @router.get("/ratings", response_class=HTMLResponse)
    def ratings_page(
        request: Request, viewer: ViewerDep, year: str = "", page: Annotated[int, Ge(1), Le(MAX_ID)] = 1,
        saved: Id | None = None,
    ):  # fmt: skip
        try:
            y = the_year(year)
        except Refused as exc:
            return console.message(request, console_strings.BAD_INPUT, str(exc), status=422, viewer=viewer)
        return render(request, viewer, y, page, saved=saved)

    @router.post("/ratings/{branch_id}", response_class=HTMLResponse)
    async def rate(request: Request, viewer: ViewerDep, branch_id: Id):
        form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
        unit = viewer.session.get(OrgUnit, branch_id)
        if unit is None or unit.kind != UnitKind.BRANCH or not viewer.scope.sees_unit(unit):
            return console.message(
                request, console_strings.FORBIDDEN, console_strings.NOT_FOUND, status=404, viewer=viewer
            )
        try:
            y = the_year(form.get("year", ""))
        except Refused as exc:
            return console.message(request, console_strings.BAD_INPUT, str(exc), status=422, viewer=viewer)
        try:
            decision = service.confirm(
                viewer.session, viewer.person.id, unit, y, form.get("grade", ""), form.get("reason", ""),
                now=console.clock(), tz=tz, cfg=rating_config(console.core), life=lifemeeting_config(console.core),
            )  # fmt: skip
        except service.NotRater as exc:
            return console.message(request, console_strings.FORBIDDEN, str(exc), status=403, viewer=viewer)
        except Refused as exc:
            return render(
                request, viewer, y, 1, status=422, problem=str(exc), form={"branch": unit.id, **form}
            )
        # Post/redirect/get: a reload does not post the grade again.
        return RedirectResponse(
            f"{PREFIX}/ratings?year={y}&saved={decision.row.branch_id}#b{unit.id}", status_code=303
        )

    return router
