"""审计日志 page: /console/audit, the changes filed under the viewer's units, newest first, filtered by
unit (its subtree), person and local date range, 50 a page. Read-only: the log has no edit route, and the
database refuses UPDATE and DELETE on it (models/audit.py)."""

from datetime import date
from typing import Annotated

from annotated_types import Ge, Le
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import or_, select

from bot.web.api.schemas import MAX_ID
from bot.web.console.deps import ConsoleApp, viewer_type
from handlers.console import audit, strings
from models.org import OrgUnit, Person, UnitKind

BAD_DATE = "日期格式应为 2026-10-01。"


def _day(text: str) -> date | None:
    text = text.strip()
    return date.fromisoformat(text) if text else None


def _id(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)

    @router.get("/audit", response_class=HTMLResponse)
    def audit_page(
        request: Request,
        viewer: ViewerDep,
        unit: str = "",
        person: str = "",
        since: str = "",
        until: str = "",
        page: Annotated[int, Ge(1), Le(MAX_ID)] = 1,
    ):
        session, scope = viewer.session, viewer.scope
        # The filter form sends "" for 全部; anything else must be an id.
        unit, person = _id(unit), _id(person)
        unit_row = session.get(OrgUnit, unit) if unit else None
        person_row = session.get(Person, person) if person else None
        if (unit and not scope.sees_unit(unit_row)) or (
            person and not scope.sees_person(session, person_row)
        ):
            return console.message(request, strings.FORBIDDEN, strings.NOT_FOUND, status=404, viewer=viewer)
        problem = ""
        try:
            flt = audit.AuditFilter(unit, person, _day(since), _day(until), page)
        except ValueError:
            problem, flt = BAD_DATE, audit.AuditFilter(unit, person, None, None, page)
        found = audit.list_entries(session, scope, flt, tz=console.core.tz)
        # The unit filter offers the 党委 and 党总支 (and the viewer's own top units, and the one chosen): a
        # branch is chosen from 组织与党员 (its 修改记录 link), not from a list of a city's 10,000.
        offered = or_(
            OrgUnit.kind.in_([UnitKind.COMMITTEE, UnitKind.GENERAL_BRANCH]),
            OrgUnit.path.in_(scope.roots + scope.observed),
            OrgUnit.id == (unit or 0),
        )
        units = session.execute(
            select(OrgUnit.id, OrgUnit.name, OrgUnit.path)
            .where(scope.unit_clause(), offered)
            .order_by(OrgUnit.path)
        ).all()
        top = min((u.path.count("/") for u in units), default=2)
        return console.page(
            request,
            "console/audit.html",
            viewer=viewer,
            nav="audit",
            title="审计日志",
            found=found,
            units=[(u.id, u.name, u.path.count("/") - top) for u in units],
            unit=unit,
            person=person_row,
            since=since,
            until=until,
            problem=problem,
        )

    return router
