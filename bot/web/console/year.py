"""年度工作 hub: /console/year?year=2026, one card per part of the year's cycle (domain.md rules 6–8, seeds
000/001): 组织生活会, 民主评议党员, 支部年度评定, 观察员年度评定 and the 年终通报. Each part's page lives in its
own module; this page only points to them, so the console's top bar stays one link for the whole year. The year
is ?year= (this year if bare), checked as the 支部年度评定 page checks it: a bad or future year is 422.

谈心谈话 has no console page of its own: its coverage is the 组织生活会 page's 谈心谈话 step, so the hub names it
only there."""

# No `from __future__ import annotations`: FastAPI must see ViewerDep, a local, as a real annotation.
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.core.errors import Refused
from bot.web.console.deps import ConsoleApp, viewer_type
from handlers.console import strings as console_strings
from handlers.rating.service import ratable_year

# (path, title, what it is for): the order a year runs in.
PARTS = (
    (
        "/lifemeetings",
        "组织生活会",
        "会前学习研讨、征求意见、谈心谈话、对照检查材料的进度，会议召开和批评与自我批评记录。",
    ),
    (
        "/appraisals",
        "民主评议党员",
        "个人自评、党员互评和民主测评（匿名计票），支部委员会提出等次，支部大会决定。",
    ),
    ("/ratings", "支部年度评定", "系统按全年月积分、观察员记录和整改情况提出建议，党委确认或调整。"),
    (
        "/observer-ratings",
        "观察员年度评定",
        "按覆盖、及时和记录质量提出优秀、称职、基本称职、不称职，党委确认；登记年度培训。",
    ),
    ("/year-reports", "年终通报", "每个支部一份向党员大会通报的年度报告（Word），党委汇总。"),
)


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)

    @router.get("/year", response_class=HTMLResponse)
    def year_page(request: Request, viewer: ViewerDep, year: str = ""):
        try:
            y = ratable_year(year, console.clock().astimezone(console.core.tz).date())
        except Refused as exc:
            return console.message(request, console_strings.BAD_INPUT, str(exc), status=422, viewer=viewer)
        return console.page(
            request, "console/year.html", viewer=viewer, nav="year", title="年度工作", parts=PARTS, year=y
        )

    return router
