"""书记项目 pages of the console.

* /console/projects?year=2027 lists the projects of the viewer's scope with their review, milestones (done,
  late), last progress report and open 督办单, and links the pages below and the 典型项目 showcase.
* /console/projects/compare is a committee's 晒比评 for a month: every project's progress against its
  milestones, the software's 红旗/蜗牛 proposal with its reason, and, for the committee's 书记/副书记/组织委员
  or 组织部, the form that decides (handlers.projects.compare).
* /console/projects/ranking is a committee's quarterly 排位赛: the proposed ranking with each project's facts,
  the confirmation (once, after the quarter; handlers.projects.bulletin) and the published 进度通报.
* /console/projects/showcase is the year's 观摩评比: the panel's scores ranked and the choice of 优秀项目
  (handlers.projects.showcase), the same rules as the chat commands 观摩排名 and 评为优秀.
* /console/projects/showcase/page is the year's 典型项目 showcase, the H5 page's content for a viewer at a PC.
* /console/projects/{id}/file.docx is a project's file (档案) as Word (handlers.ledgers.project_file), for a
  viewer whose scope holds the project's unit.

A committee or project outside the scope answers 404, a decision not the viewer's 403, a second decision 409,
a bad choice 422, each with the reason and nothing changed."""

from typing import Annotated
from urllib.parse import quote

from annotated_types import Ge, Le
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.core.errors import Refused
from bot.web.api.schemas import Id
from bot.web.console.deps import PREFIX, ConsoleApp, Viewer, viewer_type
from handlers.common import dates
from handlers.common.roles import roles_held
from handlers.console import strings as console_strings
from handlers.ledgers.project_file import project_file_docx
from handlers.projects import access, bulletin, compare, library, rating, review, showcase
from handlers.projects import strings as ps
from handlers.projects.config import projects_config
from models.org import OrgUnit, Person, UnitKind
from models.projects import OrderStatus, ProjectProgress, ProjectShowScore, SecretaryProject, SupervisionOrder

PAGE_SIZE = 100
# Chinese belongs in handlers/projects/strings.py (another helper's file): requested there in the notes.
NO_COMMITTEE = "晒比评由党委进行，您的管理范围内没有党委。各党组织的书记项目见“书记项目”列表。"


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    tz = console.core.tz

    def today():
        return console.clock().astimezone(tz).date()

    def not_found(request: Request, viewer: Viewer) -> HTMLResponse:
        return console.message(
            request, console_strings.NOT_FOUND_TITLE, console_strings.NOT_FOUND, status=404, viewer=viewer
        )

    def committees(viewer: Viewer) -> list[OrgUnit]:
        return list(
            viewer.session.scalars(
                select(OrgUnit)
                .where(
                    OrgUnit.kind == UnitKind.COMMITTEE, OrgUnit.active.is_(True), viewer.scope.unit_clause()
                )
                .order_by(OrgUnit.path)
            )
        )

    @router.get("/projects", response_class=HTMLResponse)
    def projects_page(
        request: Request,
        viewer: ViewerDep,
        year: Annotated[int | None, Ge(2000), Le(2100)] = None,
        page: Annotated[int, Ge(1), Le(10_000)] = 1,
    ):
        session = viewer.session
        day = today()
        year = year or day.year
        where = (SecretaryProject.year == year, viewer.scope.unit_clause())
        base = select(SecretaryProject).join(OrgUnit, OrgUnit.id == SecretaryProject.unit_id).where(*where)
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        projects = session.scalars(
            base.options(selectinload(SecretaryProject.milestones))  # every row shows its milestones
            .order_by(OrgUnit.path, SecretaryProject.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        ids = [p.id for p in projects]
        last = dict(
            session.execute(
                select(ProjectProgress.project_id, func.max(ProjectProgress.month))
                .where(ProjectProgress.project_id.in_(ids))
                .group_by(ProjectProgress.project_id)
            ).all()
        )
        open_orders = dict(
            session.execute(
                select(SupervisionOrder.project_id, func.count())
                .where(SupervisionOrder.project_id.in_(ids), SupervisionOrder.status != OrderStatus.CLOSED)
                .group_by(SupervisionOrder.project_id)
            ).all()
        )
        ratings = rating.tallies(session, ids)
        units = {
            u.id: u
            for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_({p.unit_id for p in projects})))
        }
        people = {
            p.id: p.name
            for p in session.scalars(select(Person).where(Person.id.in_({p.secretary_id for p in projects})))
        }
        rows = [
            {
                "project": p,
                "unit": units[p.unit_id].name,
                "secretary": people.get(p.secretary_id, ""),
                "status": ps.STATUS_LABELS[p.status],
                "done": sum(m.done_on is not None for m in p.milestones),
                "total": len(p.milestones),
                "late": len(review.late_milestones(p, day)),
                "milestones": review.milestone_lines(p.milestones, day, markdown=False).splitlines(),
                "last": dates.fmt_month(last[p.id]) if p.id in last else "",
                "orders": open_orders.get(p.id, 0),
                "rating": rating.result_line(session, p, ratings[p.id]),
                "window": ps.RATING_WINDOW.format(
                    opens=dates.fmt_full_day(p.rating_opens_on), closes=dates.fmt_full_day(p.rating_closes_on)
                )
                if p.rating_closes_on
                else "",
            }
            for p in projects
        ]
        return console.page(
            request,
            "console/projects.html",
            viewer=viewer,
            nav="projects",
            title=ps.LIST_TITLE,
            year=year,
            rows=rows,
            committees=committees(viewer),
            month=dates.add_months(dates.month_start(day), -1).strftime("%Y-%m"),
            quarter=bulletin.code(bulletin.last_quarter(day)),
            leader=library_leader(viewer),
            number=page,
            pages=max(1, -(-total // PAGE_SIZE)),
        )

    def committee_in_scope(viewer: Viewer, committee_id: int) -> OrgUnit | None:
        unit = viewer.session.get(OrgUnit, committee_id)
        if unit is None or unit.kind != UnitKind.COMMITTEE or not viewer.scope.sees_unit(unit):
            return None
        return unit

    def render_compare(request, viewer, committee, month, *, status=200, problem="", notice=""):
        cfg = projects_config(console.core)
        day = today()
        rows, decided = compare.month_view(viewer.session, committee, month, cfg, day)
        return console.page(
            request,
            "console/projects_compare.html",
            viewer=viewer,
            status_code=status,
            nav="projects",
            title=ps.COMPARE_TITLE,
            committee=committee,
            month=month,
            month_label=dates.fmt_month(month),
            running=ps.COMPARE_RUNNING.format(month=dates.fmt_month(month), today=dates.fmt_full_day(day))
            if day < dates.add_months(month, 1)
            else "",
            rows=rows,
            decided=decided,
            can_decide=not decided and compare.can_decide(viewer.session, viewer.person, committee, cfg),
            labels=ps.PICK_LABELS,
            problem=problem,
            notice=notice,
        )

    def the_month(text: str):
        month = dates.parse_month(text, today()) if text else dates.add_months(dates.month_start(today()), -1)
        if month is None:
            raise Refused(ps.COMPARE_BAD_MONTH, status=422)
        return month

    @router.get("/projects/compare", response_class=HTMLResponse)
    def compare_page(
        request: Request, viewer: ViewerDep, committee: Id | None = None, month: str = "", saved: int = 0
    ):
        # Without a committee (the address typed or bookmarked bare): the viewer's own, the first of the
        # scope in tree order, as the list page's links would open it, rather than a bare 422.
        if committee is None:
            mine = committees(viewer)
            if not mine:
                return console.message(request, ps.COMPARE_TITLE, NO_COMMITTEE, viewer=viewer)
            committee = mine[0].id
        unit = committee_in_scope(viewer, committee)
        if unit is None:
            return not_found(request, viewer)
        try:
            m = the_month(month)
        except Refused as exc:
            return console.message(request, console_strings.BAD_INPUT, str(exc), status=422, viewer=viewer)
        return render_compare(request, viewer, unit, m, notice=ps.COMPARE_SAVED if saved else "")

    @router.post("/projects/compare/{committee_id}", response_class=HTMLResponse)
    async def decide(request: Request, viewer: ViewerDep, committee_id: Id):
        form = await request.form()
        unit = committee_in_scope(viewer, committee_id)
        if unit is None:
            return not_found(request, viewer)
        try:
            m = the_month(str(form.get("month", "")))
        except Refused as exc:
            return console.message(request, console_strings.BAD_INPUT, str(exc), status=422, viewer=viewer)
        try:
            picks = {str(k)[5:]: str(v) for k, v in form.items() if str(k).startswith("pick_")}
            if any(v not in ("", "red_flag", "snail") or not k.isdigit() for k, v in picks.items()):
                raise Refused(ps.COMPARE_BAD_CHOICE, status=422)
            red = [int(k) for k, v in picks.items() if v == "red_flag"]
            snail = [int(k) for k, v in picks.items() if v == "snail"]
            compare.decide(
                viewer.session,
                viewer.person,
                unit,
                m,
                red,
                snail,
                now=console.clock(),
                cfg=projects_config(console.core),
                today=today(),
            )
        except Refused as exc:
            if exc.status in (403, 409):
                return console.message(
                    request, console_strings.FORBIDDEN, str(exc), status=exc.status, viewer=viewer
                )
            return render_compare(request, viewer, unit, m, status=exc.status, problem=str(exc))
        return RedirectResponse(
            f"{PREFIX}/projects/compare?committee={unit.id}&month={m:%Y-%m}&saved=1", status_code=303
        )

    # 排位赛 and 进度通报

    def render_ranking(request, viewer, committee, quarter, *, status=200, problem="", notice=""):
        cfg = projects_config(console.core)
        day = today()
        rows, confirmed = bulletin.quarter_view(viewer.session, committee, quarter, cfg, day)
        over = day >= bulletin.quarter_end(quarter)
        label = dates.fmt_quarter(quarter)
        # Whether this viewer could confirm the quarter now; a quarter with nothing to rank then shows why not.
        may_confirm = (
            confirmed is None
            and over
            and bool(rows)
            and bulletin.can_confirm(viewer.session, viewer.person, committee, cfg)
        )
        nothing = may_confirm and bulletin.nothing_to_rank(rows)
        return console.page(
            request,
            "console/projects_ranking.html",
            viewer=viewer,
            status_code=status,
            nav="projects",
            title=ps.QUARTER_TITLE.format(committee=committee.name, quarter=label),
            committee=committee,
            quarter=bulletin.code(quarter),
            quarter_label=label,
            running="" if over else ps.QUARTER_RUNNING.format(quarter=label, today=dates.fmt_full_day(day)),
            rows=rows,
            confirmed=confirmed,
            confirmed_on=dates.fmt_full_day(confirmed.confirmed_at.astimezone(tz).date())
            if confirmed
            else "",
            details=bulletin.details(viewer.session, committee, quarter, rows, cfg) if confirmed else None,
            can_confirm=may_confirm and not nothing,
            nothing=ps.QUARTER_NOTHING if nothing else "",
            problem=problem,
            notice=notice,
        )

    def the_quarter(text: str):
        quarter = bulletin.parse_quarter(text, today())
        if quarter is None:
            raise Refused(ps.QUARTER_BAD, status=422)
        return quarter

    @router.get("/projects/ranking", response_class=HTMLResponse)
    def ranking_page(
        request: Request, viewer: ViewerDep, committee: Id | None = None, quarter: str = "", saved: int = 0
    ):
        if committee is None:  # bare: the viewer's first committee, as on 晒比评
            mine = committees(viewer)
            if not mine:
                return console.message(request, ps.COMPARE_TITLE, NO_COMMITTEE, viewer=viewer)
            committee = mine[0].id
        unit = committee_in_scope(viewer, committee)
        if unit is None:
            return not_found(request, viewer)
        try:
            q = the_quarter(quarter)
        except Refused as exc:  # an input error, not a missing right
            return console.message(request, console_strings.BAD_INPUT, str(exc), status=400, viewer=viewer)
        return render_ranking(request, viewer, unit, q, notice=ps.QUARTER_SAVED if saved else "")

    @router.post("/projects/ranking/{committee_id}", response_class=HTMLResponse)
    async def confirm_ranking(request: Request, viewer: ViewerDep, committee_id: Id):
        form = await request.form()
        unit = committee_in_scope(viewer, committee_id)
        if unit is None:
            return not_found(request, viewer)
        try:
            q = the_quarter(str(form.get("quarter", "")).strip() or "-")
        except Refused as exc:
            return console.message(request, console_strings.BAD_INPUT, str(exc), status=422, viewer=viewer)
        try:
            bulletin.confirm(
                viewer.session,
                viewer.person,
                unit,
                q,
                now=console.clock(),
                cfg=projects_config(console.core),
                public_base_url=console.core.public_base_url,
            )
        except Refused as exc:
            if exc.status in (403, 409):
                return console.message(
                    request, console_strings.FORBIDDEN, str(exc), status=exc.status, viewer=viewer
                )
            return render_ranking(request, viewer, unit, q, status=exc.status, problem=str(exc))
        return RedirectResponse(
            f"{PREFIX}/projects/ranking?committee={unit.id}&quarter={bulletin.code(q)}&saved=1",
            status_code=303,
        )

    # 观摩评比 and 优秀项目

    @router.get("/projects/showcase", response_class=HTMLResponse)
    def showcase_page(
        request: Request,
        viewer: ViewerDep,
        year: Annotated[int | None, Ge(2000), Le(2100)] = None,
        saved: int = 0,
    ):
        session, cfg = viewer.session, projects_config(console.core)
        year = year or today().year
        if not library_leader(viewer):
            return console.message(
                request, ps.SHOWCASE_TITLE, ps.SHOWCASE_NOT_LEADER, status=403, viewer=viewer
            )
        ranked = showcase.ranking(session, viewer.person, year, cfg)
        # A 包保 cadre's narrowed console shows (and lets choose) only the projects its scope holds.
        shown = set(
            session.scalars(
                select(OrgUnit.id).where(
                    OrgUnit.id.in_({r.project.unit_id for r in ranked}), viewer.scope.unit_clause()
                )
            )
        )
        ranked = [r for r in ranked if r.project.unit_id in shown]
        ids = [r.project.id for r in ranked]
        scores: dict[int, list[int]] = {i: [] for i in ids}
        for pid, score in session.execute(
            select(ProjectShowScore.project_id, ProjectShowScore.score)
            .where(ProjectShowScore.project_id.in_(ids))
            .order_by(ProjectShowScore.id)
        ):
            scores[pid].append(score)
        choosers = excellent_choosers(viewer, [r.project for r in ranked], cfg)
        return console.page(
            request,
            "console/projects_showcase.html",
            viewer=viewer,
            nav="projects",
            title=ps.SHOWCASE_TITLE,
            year=year,
            rows=[
                {
                    "rank": i,
                    "r": r,
                    "scores": "、".join(str(x) for x in scores[r.project.id]),
                    "can_choose": r.project.excellent_at is None and r.project.id in choosers,
                }
                for i, r in enumerate(ranked, 1)
            ],
            notice=ps.SHOWCASE_SAVED if saved else "",
        )

    @router.get("/projects/showcase/page", response_class=HTMLResponse)
    def showcase_cards(
        request: Request, viewer: ViewerDep, year: Annotated[int | None, Ge(2000), Le(2100)] = None
    ):
        """The 典型项目 showcase as the H5 page shows it, for a viewer at a PC (the H5 page asks for the
        DingTalk/WeCom identity there)."""
        year = year or today().year
        return console.page(
            request,
            "console/projects_showcase_page.html",
            viewer=viewer,
            nav="projects",
            title=ps.H5_SHOWCASE_TITLE,
            year=year,
            projects=showcase.cards(viewer.session, year),
        )

    def library_leader(viewer: Viewer) -> bool:
        scope = library.leader_scope(viewer.session, viewer.person, projects_config(console.core))
        return scope is None or bool(scope)

    def excellent_choosers(viewer: Viewer, projects: list[SecretaryProject], cfg) -> set[int]:
        """The projects whose 优秀项目 the viewer may choose (orders.issuers' rule, for all at once):
        the committee above's `committee_roles`, or 组织部 over the unit."""
        session = viewer.session
        units = list(session.scalars(select(OrgUnit).where(OrgUnit.id.in_({p.unit_id for p in projects}))))
        above = access.committees_above(session, units)
        staff = access.org_staff_by_unit(session, units)
        held = set(roles_held(session, viewer.person.id))
        found = set()
        for p in projects:
            committee = above.get(p.unit_id)
            if viewer.person.id in staff.get(p.unit_id, []) or (
                committee is not None and any((committee.id, role) in held for role in cfg.committee_roles)
            ):
                found.add(p.id)
        return found

    @router.post("/projects/showcase/{project_id}/excellent", response_class=HTMLResponse)
    async def choose_excellent(request: Request, viewer: ViewerDep, project_id: Id):
        await request.form()
        session = viewer.session
        p = session.get(SecretaryProject, project_id)
        if p is None or not viewer.scope.sees_unit(session.get(OrgUnit, p.unit_id)):
            return not_found(request, viewer)
        try:
            showcase.choose_excellent(
                session, viewer.person, p.id, now=console.clock(), cfg=projects_config(console.core)
            )
        except Refused as exc:
            return console.message(
                request, console_strings.FORBIDDEN, str(exc), status=exc.status, viewer=viewer
            )
        return RedirectResponse(f"{PREFIX}/projects/showcase?year={p.year}&saved=1#p{p.id}", status_code=303)

    @router.get("/projects/{project_id}/file.docx")
    def project_file(request: Request, viewer: ViewerDep, project_id: Id):
        p = viewer.session.get(SecretaryProject, project_id)
        if p is None or not viewer.scope.sees_unit(viewer.session.get(OrgUnit, p.unit_id)):
            return not_found(request, viewer)
        return Response(
            project_file_docx(viewer.session, p, tz),
            media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(ps.FILE_NAME.format(id=p.id))}"
            },
        )

    return router
