"""总览 pages: /console/ (the scope's month), /console/units/{id} (a committee's branches, or a branch's
meetings), /console/meetings/{id} (attendance and minutes). ?month=YYYY-MM picks a past month.

The numbers come from handlers.console.overview (the monthly score's own figures); these routes only
parse, render, and answer 404 for anything outside the viewer's scope. An htmx request (the month
switch, expanding a committee's row) gets the part of the page it swaps, not the whole page.
"""

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.web.api.schemas import Id
from bot.web.console.deps import ConsoleApp, Viewer, viewer_type
from handlers.common.dates import add_months, fmt_month
from handlers.console import overview, strings
from handlers.meetings.strings import ATTENDANCE_LABELS, TYPE_LABELS
from handlers.meetings.types import meetings_config
from handlers.monthly import strings as monthly_strings
from handlers.monthly.service import parse_period
from handlers.observers.strings import RECT_STATUS_LABELS
from models.meetings import AttendanceMethod, MeetingStatus
from models.org import UNIT_KIND_LABELS, UnitKind

MONTH_CHOICES = 24  # how far back the month switch reaches

BAD_MONTH = "月份格式应为 2026-10。"
FUTURE_MONTH = "这个月还没有开始，没有可看的数据。"
METHOD_LABELS = {
    AttendanceMethod.QR: "扫码",
    AttendanceMethod.PROXY: "代签",
    AttendanceMethod.AUTO: "签到结束时记录",
}
MEETING_STATUS_LABELS = {MeetingStatus.SCHEDULED: "正常", MeetingStatus.CANCELLED: "已取消"}


def _labels() -> dict:
    types = {t.value: label for t, label in TYPE_LABELS.items()}
    return {
        "types_text": lambda values: "、".join(types.get(v, v) for v in values),
        "pct": monthly_strings.pct,
        "group_label": monthly_strings.group_label,
        "lag_text": monthly_strings.lag_reasons,
        "type_labels": {t.value: label for t, label in TYPE_LABELS.items()},
        "attendance_labels": {s.value: label for s, label in ATTENDANCE_LABELS.items()},
        "method_labels": {m.value: label for m, label in METHOD_LABELS.items()},
        "meeting_status_labels": {m.value: label for m, label in MEETING_STATUS_LABELS.items()},
        "rect_labels": {s.value: label for s, label in RECT_STATUS_LABELS.items()},
        "ladder_labels": monthly_strings.LADDER_LABELS,
        "kind_labels": {k.value: label for k, label in UNIT_KIND_LABELS.items()},
        "fmt_month": fmt_month,
        "num": lambda v: f"{v:.1f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v),
    }


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    labels = _labels()

    def meetings_cfg():
        return meetings_config(console.core)

    def pick_month(month: str | None) -> date:
        """The asked month, or this local month; ValueError (Chinese) for a malformed or future one."""
        this = console.this_month()
        if not month:
            return this
        try:
            m = parse_period(month)
        except ValueError:
            raise ValueError(BAD_MONTH) from None
        if m > this:
            raise ValueError(FUTURE_MONTH)
        return m

    def view_of(viewer: Viewer, month: date) -> overview.MonthView:
        return overview.view_of(console.month_data(viewer.session, month), viewer.scope)

    def month_choices() -> list[date]:
        this = console.this_month()
        return [add_months(this, -i) for i in range(MONTH_CHOICES)]

    def not_found(request: Request, viewer: Viewer) -> HTMLResponse:
        return console.message(request, strings.NOT_FOUND_TITLE, strings.NOT_FOUND, status=404, viewer=viewer)

    def page(request: Request, viewer: Viewer, name: str, **ctx) -> HTMLResponse:
        return console.page(
            request, name, viewer=viewer, nav="overview", months=month_choices(), **labels, **ctx
        )

    @router.get("/")
    def overview_page(request: Request, viewer: ViewerDep, month: str | None = None):
        try:
            m = pick_month(month)
        except ValueError as exc:
            return console.message(request, str(exc), str(exc), status=400, viewer=viewer)
        view = view_of(viewer, m)
        points = overview.trend(viewer.session, viewer.scope, view)
        name = (
            "console/overview_content.html" if request.headers.get("HX-Request") else "console/overview.html"
        )
        cfg = meetings_cfg()
        return page(
            request, viewer, name, title="总览", view=view, figures=view.figures(), rows=view.rows(), trend=points,
            updated_at=view.built_at.astimezone(cfg.tz), refresh_minutes=int(console.months.ttl.total_seconds() // 60),
            trend_data={
                "months": [f"{p.month.year}年{p.month.month}月" for p in points],
                "score": [p.score for p in points],
                "lagging": [p.lagging if p.branches else None for p in points],
            },
        )  # fmt: skip

    @router.get("/units/{unit_id}")
    def unit_page(request: Request, viewer: ViewerDep, unit_id: Id, month: str | None = None):
        try:
            m = pick_month(month)
        except ValueError as exc:
            return console.message(request, str(exc), str(exc), status=400, viewer=viewer)
        try:
            unit = overview.unit_in_scope(viewer.session, viewer.scope, unit_id)
        except overview.NotInScope:
            return not_found(request, viewer)
        cfg = meetings_cfg()
        now = console.clock()
        view = view_of(viewer, m)
        n_esc, escalations = overview.escalations(viewer.session, viewer.scope, unit, m)
        n_rect, rects = overview.rectifications(viewer.session, viewer.scope, unit, m, now=now, cfg=cfg)
        meetings = []
        if unit.kind == UnitKind.BRANCH:
            meetings = overview.branch_meetings(viewer.session, viewer.scope, unit, m, now=now, cfg=cfg)
        crumbs = [
            view.units[int(p)] for p in unit.path.strip("/").split("/")[:-1] if p and int(p) in view.units
        ]
        name = "console/unit_content.html" if request.headers.get("HX-Request") else "console/unit.html"
        return page(
            request, viewer, name, title=unit.name, unit=unit, view=view, row=view.branches.get(unit.id)
            or view.committees.get(unit.id), figures=view.figures(unit.id), rows=view.rows(unit.id),
            meetings=meetings, escalations=escalations, n_escalations=n_esc, rects=rects, n_rects=n_rect,
            crumbs=crumbs, is_branch=unit.kind == UnitKind.BRANCH, tz=cfg.tz,
        )  # fmt: skip

    @router.get("/units/{unit_id}/rows")
    def unit_rows(request: Request, viewer: ViewerDep, unit_id: Id, month: str | None = None):
        """A committee's branch rows, for expanding its row of the overview in place (htmx)."""
        try:
            m = pick_month(month)
            unit = overview.unit_in_scope(viewer.session, viewer.scope, unit_id)
        except ValueError as exc:
            return console.message(request, str(exc), str(exc), status=400, viewer=viewer)
        except overview.NotInScope:
            return not_found(request, viewer)
        view = view_of(viewer, m)
        return page(
            request, viewer, "console/overview_rows.html", view=view, rows=view.rows(unit.id), nested=True
        )

    @router.get("/meetings/{meeting_id}")
    def meeting_page(request: Request, viewer: ViewerDep, meeting_id: Id):
        cfg = meetings_cfg()
        try:
            detail = overview.meeting_detail(
                viewer.session, viewer.scope, meeting_id, now=console.clock(), cfg=cfg
            )
        except overview.NotInScope:
            return not_found(request, viewer)
        month = detail.meeting.starts_at.astimezone(cfg.tz).date().replace(day=1)
        return page(
            request,
            viewer,
            "console/meeting.html",
            title=detail.meeting.title,
            d=detail,
            month=month,
            tz=cfg.tz,
        )

    return router
