"""年终通报 (the year-end report to the 党员大会) page: /console/year-reports?year=2026.

The branches the viewer leads, each with its report (.docx) to read out at the year-end 党员大会, and each
党委 (or 党总支) they lead with its roll-up (.xlsx, one row per branch). Who gets what is the Scope's
editable part (handlers.console.scope): a branch's 书记/副书记/组织委员 their branch, a 党委's its subtree,
组织部 everything. A unit outside it, an observer's branch included, answers 404 like one that does not
exist; a bad or future year 422. The figures are handlers.ledgers.year_report's; nothing here counts.
"""

# No `from __future__ import annotations`: FastAPI must see ViewerDep, a local, as a real annotation.
from typing import Annotated

from annotated_types import Ge, Le
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from bot.core.errors import Refused
from bot.web.api.schemas import MAX_ID, Id
from bot.web.console.deps import ConsoleApp, Viewer, viewer_type
from bot.web.console.ledgers import LedgerPages
from handlers.console import overview
from handlers.console import strings as console_strings
from handlers.fees.policy import default_policy
from handlers.ledgers import year_report
from handlers.ledgers import year_report_strings as S
from handlers.ledgers.workbook import DOCX, XLSX, download_name
from handlers.lifemeeting.config import lifemeeting_config
from handlers.meetings.types import local_day, meetings_config
from handlers.monthly.config import monthly_config
from handlers.observers.forms import observers_config
from handlers.rating.config import rating_config
from handlers.rating.service import year_of
from handlers.talks.config import talks_config
from models.org import OrgUnit, UnitKind

PAGE_SIZE = 100


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    core = console.core

    def rules() -> year_report.Rules:
        return year_report.Rules(
            meetings_config(core), monthly_config(core), observers_config(core), talks_config(core),
            rating_config(core), default_policy(core), lifemeeting_config(core),
        )  # fmt: skip

    def the_year(text: str) -> int:
        """The year asked for (empty: this one); Refused with the reason for a bad or future one."""
        today = local_day(console.clock(), meetings_config(core))
        try:
            y = year_of(text, today)
        except Refused as exc:
            raise Refused(S.BAD_YEAR) from exc
        if y > today.year:
            raise Refused(S.FUTURE_YEAR)
        return y

    def refused(request: Request, viewer: Viewer, text: str, status: int) -> HTMLResponse:
        title = console_strings.NOT_FOUND if status == 404 else console_strings.FORBIDDEN
        return console.message(request, title, text, status=status, viewer=viewer)

    def not_found(request: Request, viewer: Viewer) -> HTMLResponse:
        return refused(request, viewer, console_strings.NOT_FOUND, 404)

    def month_data(viewer: Viewer):
        return lambda month: console.month_data(viewer.session, month)  # the 总览's month, kept

    @router.get("/year-reports", response_class=HTMLResponse)
    def year_reports_page(
        request: Request, viewer: ViewerDep, year: str = "", page: Annotated[int, Ge(1), Le(MAX_ID)] = 1
    ):
        try:
            y = the_year(year)
        except Refused as exc:
            return refused(request, viewer, str(exc), 422)
        session, scope = viewer.session, viewer.scope
        led = (OrgUnit.active.is_(True), scope.unit_clause(editable=True))
        committees = session.scalars(
            select(OrgUnit).where(OrgUnit.kind.in_(year_report.ROLLUP_UNITS), *led).order_by(OrgUnit.path)
        ).all()
        in_scope = (OrgUnit.kind == UnitKind.BRANCH, *led)
        total = session.scalar(select(func.count()).select_from(OrgUnit).where(*in_scope)) or 0
        branches = session.scalars(
            select(OrgUnit)
            .where(*in_scope)
            .order_by(OrgUnit.path)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        # Each branch's nearest 党委/党总支 the viewer sees, for the list's second column.
        above = {
            u.id: u.name
            for u in session.scalars(
                select(OrgUnit).where(
                    OrgUnit.id.in_(
                        {a for b in branches for a in b.ancestor_ids()} - {b.id for b in branches}
                    ),
                    OrgUnit.kind.in_(year_report.ROLLUP_UNITS),
                )
            )
        }
        rows = [(b, next((above[a] for a in reversed(b.ancestor_ids()) if a in above), "")) for b in branches]
        return console.page(
            request, "console/year_reports.html", viewer=viewer, nav="year", title=S.NAV, S=S, year=y,
            committees=committees, rows=rows, number=page, pages=max(1, -(-total // PAGE_SIZE)),
            years=list(range(local_day(console.clock(), meetings_config(core)).year, 2019, -1))[:5],
        )  # fmt: skip

    @router.get("/year-reports/{branch_id}/report.docx")
    def branch_report(request: Request, viewer: ViewerDep, branch_id: Id, year: str = ""):
        try:
            y = the_year(year)
        except Refused as exc:
            return refused(request, viewer, str(exc), 422)
        unit = viewer.session.get(OrgUnit, branch_id)
        if unit is None:
            return not_found(request, viewer)
        try:
            by = year_report.branch_year(
                viewer.session, viewer.scope, unit, y, now=console.clock(), rules=rules(),
                month_data=month_data(viewer),
            )  # fmt: skip
        except overview.NotInScope:
            return not_found(request, viewer)
        except ValueError as exc:  # not a branch, or a year not begun
            return refused(request, viewer, str(exc), 422)
        today = local_day(console.clock(), meetings_config(core))
        name = download_name(by.branch.name, f"{y}年度", S.NAV, ext="docx")
        return LedgerPages.download(year_report.report_docx(by, today=today), DOCX, name)

    @router.get("/year-reports/{unit_id}/rollup.xlsx")
    def committee_rollup(request: Request, viewer: ViewerDep, unit_id: Id, year: str = ""):
        try:
            y = the_year(year)
        except Refused as exc:
            return refused(request, viewer, str(exc), 422)
        unit = viewer.session.get(OrgUnit, unit_id)
        if unit is None:
            return not_found(request, viewer)
        try:
            # Any unit the viewer leads has one: the page offers the 党委's and 党总支's, whose rows are
            # their branches (a branch's own is its one row).
            years = year_report.year_reports(
                viewer.session, viewer.scope, unit, y, now=console.clock(), rules=rules(),
                month_data=month_data(viewer),
            )  # fmt: skip
        except overview.NotInScope:
            return not_found(request, viewer)
        except ValueError as exc:
            return refused(request, viewer, str(exc), 422)
        as_of = year_report.as_of(y, now=console.clock(), cfg=meetings_config(core))
        name = download_name(unit.name, f"{y}年度", S.ROLLUP, ext="xlsx")
        return LedgerPages.download(year_report.rollup_xlsx(unit, y, years, as_of=as_of), XLSX, name)

    return router
