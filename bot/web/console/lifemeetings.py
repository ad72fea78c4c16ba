"""组织生活会 page: /console/lifemeetings?year=2026, the branches of the viewer's scope (handlers.console.scope:
a committee's 书记/副书记/组织委员 their subtree, 组织部 theirs, a branch's secretary their branch, an observer
the branches they observe), 100 a page: held or not (and when), each step's completion before the meeting, who
is missing, and the 整改措施 still open. Read-only: the branch records its 组织生活会 in chat. A bad year is 422."""

from typing import Annotated

from annotated_types import Ge, Le
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.web.api.schemas import MAX_ID
from bot.web.console.deps import ConsoleApp, viewer_type
from handlers.console import strings as console_strings
from handlers.lifemeeting import strings as ls
from handlers.lifemeeting.config import STEPS, lifemeeting_config
from handlers.lifemeeting.status import branch_status, names_of
from handlers.meetings.types import meetings_config
from handlers.talks.config import talks_config

TITLE = "组织生活会"
BAD_YEAR = "年份请写四位数字，例如 2026。"


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    tz = console.core.tz

    @router.get("/lifemeetings", response_class=HTMLResponse)
    def lifemeetings_page(
        request: Request, viewer: ViewerDep, year: str = "", page: Annotated[int, Ge(1), Le(MAX_ID)] = 1
    ):
        now = console.clock()
        this_year = now.astimezone(tz).year
        typed = year.strip()
        if typed and not (typed.isdigit() and len(typed) == 4 and 2000 <= int(typed) <= this_year + 1):
            return console.message(request, console_strings.BAD_INPUT, BAD_YEAR, status=422, viewer=viewer)
        y = int(typed) if typed else this_year
        session = viewer.session
        cfg = lifemeeting_config(console.core)
        units, _, pages = viewer.branches_page(page)
        lives = branch_status(
            session, [u.id for u in units], y, now=now, cfg=cfg, talks_cfg=talks_config(console.core),
            meetings_cfg=meetings_config(console.core),
        )  # fmt: skip
        rows = []
        for u in units:
            life = lives[u.id]
            steps = []
            for step in STEPS:
                state = life.steps[step]
                missing = names_of(life, state.not_done, cfg.names_shown, ls.MORE)
                done, required = len(state.done), state.required
                if step == "talks" and life.talks is not None:
                    # Counted in talks owed, as 谈心谈话情况 and the chat's 组织生活会情况 count them: a person
                    # is done only once every talk owed to them is held, so per person it moved late.
                    done, required = life.talks.done, life.talks.required
                steps.append({"label": ls.STEP_LABELS[step], "done": done, "required": required,
                              "missing": missing})  # fmt: skip
            rows.append({"unit": u, "life": life, "steps": steps,
                         "held_on": life.held_at.astimezone(tz).date() if life.held_at else None,
                         "missing_steps": [ls.STEP_LABELS[s] for s in life.missing_steps()]})  # fmt: skip
        held = sum(1 for r in rows if r["life"].held)
        return console.page(
            request, "console/lifemeetings.html", viewer=viewer, nav="year", title=TITLE, year=y, rows=rows,
            labels=[ls.STEP_LABELS[s] for s in STEPS], number=page, pages=pages,
            held=held,
        )  # fmt: skip

    return router
