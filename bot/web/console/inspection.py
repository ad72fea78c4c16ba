"""督查/巡查 pages of the console: /console/inspection.

- /inspection: the rounds the viewer may see (handlers.inspection.rounds.rounds_for: an inspector only
  the rounds they check in, a branch a patrol draw only once its month is over), and for organisers the
  forms that open a 督查 round, draw the month's patrol, pair a committee's 交叉互查 and add to the
  year's lists, with the quarter's 巡查指导 line per committee and for the county;
- /inspection/round?id=N: the units the viewer sees, their findings and rectifications, the forms to
  record a finding, decide a rectification, close the round, correct a finding after the close;
- /inspection/ledger?round=N&branch=M: the read-only view of the other branch's meetings for the
  period of a 交叉互查;
- /inspection/units/{branch} and .docx: the unit's file (一户一档).

Refusals: 404 nothing of that kind or not the viewer's to see, 403 seen but not theirs to do, 409 the
record's state forbids it (a closed round, a decided rectification), 422 a bad value; each with the
reason and nothing changed. A round is named in the query or the form, not the path: the console's
scope test (tests/console/test_scope.py) fills only the organisation's own path parameters, and a
page without one answers 200 (here: the index) when its query is missing. Every change is post/redirect/get and lands in the audit log (the tables
are registered by models.inspection).
"""

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from bot.core.errors import Refused
from bot.web.api.schemas import Id
from bot.web.console.deps import PREFIX, ConsoleApp, Viewer, viewer_type
from bot.web.console.ledgers import LedgerPages
from handlers.common import dates
from handlers.console import strings as console_strings
from handlers.inspection import draw, guidance, liaison, rounds
from handlers.inspection import strings as ins
from handlers.inspection.config import inspection_config
from handlers.ledgers import document
from handlers.ledgers.workbook import DOCX
from models.inspection import ROUND_KIND_LABELS, ChecklistItem, InspectionRound, Liaison, RoundKind
from models.meetings import Meeting
from models.org import BRANCH_CATEGORY_LABELS, ROLE_LABELS, OrgUnit, Person, Role, RoleAssignment, UnitKind


def unit_file_docx(session, unit: OrgUnit, entries: list[rounds.FileEntry], tz) -> bytes:
    """The unit's 一户一档 as a printable Word file, with the ledgers' page, fonts and tables."""
    doc = document.a4_document()
    styles = document.Styles(doc)
    document.heading(doc, styles, ins.FILE_TITLE.format(unit=unit.name), 1)
    if not entries:
        doc.add_paragraph(ins.FILE_EMPTY)
    names = _names(session, {p for e in entries for p in (e.unit.inspector_id, e.round.created_by_id)})
    for e in entries:
        r = e.round
        document.heading(doc, styles, f"第{r.id}轮 {ROUND_KIND_LABELS[r.kind]}：{r.title}", 2)
        document.kv(doc, styles, [
            ("开始日期", str(r.opened_on)),
            ("方式", " ".join(x for x in (r.scope_kind, r.target_kind, r.method) if x) or "—"),
            ("督查人员", names.get(e.unit.inspector_id, "") or "—"),
            ("检查日期", str(e.unit.visited_on or "—")),
            ("状态", f"已结束 {document.when(r.closed_at, tz)}" if r.closed_at else "进行中"),
        ])  # fmt: skip
        rows = []
        for f in e.findings:
            rect = f.rectification
            rows.append([
                f.item_title,
                ins.STATUS_OK if f.ok else ins.STATUS_PROBLEM,
                f.text + (f"（更正：{f.correction_reason}）" if f.correction_reason else ""),
                f"{ins.RECT_STATUS_LABELS[rect.status]}，期限 {rect.due_on}" + (f"，{rect.report_note}" if rect.report_note else "")
                if rect else "",
            ])  # fmt: skip
        if rows:
            document.table(doc, styles, ["督查事项", "结果", "问题", "整改"], rows)
    return document.docx_bytes(doc)


def _names(session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    return (
        dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all()) if ids else {}
    )


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    tz = console.core.tz

    def today() -> date:
        return console.clock().astimezone(tz).date()

    def standing(viewer: Viewer) -> rounds.Standing:
        return rounds.standing(viewer.session, viewer.person.id, inspection_config(console.core))

    def refused(request: Request, viewer: Viewer, exc: Refused) -> HTMLResponse:
        return console.message(request, console_strings.FORBIDDEN, str(exc), status=exc.status, viewer=viewer)

    def not_found(request: Request, viewer: Viewer) -> HTMLResponse:
        return console.message(
            request, console_strings.FORBIDDEN, console_strings.NOT_FOUND, status=404, viewer=viewer
        )

    async def form_of(request: Request) -> dict[str, str]:
        return {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}

    def organises_anything(st: rounds.Standing) -> bool:
        return bool(st.staff_paths)

    def organiser_units(viewer: Viewer, st: rounds.Standing) -> list[OrgUnit]:
        """Committees the viewer may run rounds over (their 组织部 subtree's committees)."""
        if not st.staff_paths:
            return []
        q = select(OrgUnit).where(
            OrgUnit.kind == UnitKind.COMMITTEE, OrgUnit.active.is_(True), st.organised_units()
        )
        return list(viewer.session.scalars(q.order_by(OrgUnit.path)))

    def render_index(
        request: Request, viewer: Viewer, st: rounds.Standing, *, status: int = 200, problem: str = "",
        notice: str = "",
    ):  # fmt: skip
        session, day = viewer.session, today()
        visible = rounds.rounds_for(session, st, day)
        committees = organiser_units(viewer, st)
        branches = []
        if organises_anything(st):
            q = select(OrgUnit).where(
                OrgUnit.kind == UnitKind.BRANCH, OrgUnit.active.is_(True), st.organised_units()
            )
            branches = list(session.scalars(q.order_by(OrgUnit.path).limit(2000)))
        counts = []
        if organises_anything(st):
            if "" in st.staff_paths:
                counts.append(("全县", guidance.quarter_counts(session, None, day)))
            counts += [(c.name, guidance.quarter_counts(session, c, day)) for c in committees]
        items = []
        if organises_anything(st):
            guidance.ensure_defaults(session, day.year)
            items = session.scalars(
                select(ChecklistItem)
                .where(ChecklistItem.year == day.year, ChecklistItem.active.is_(True))
                .order_by(ChecklistItem.list_kind, ChecklistItem.seq)
            ).all()
        mine = session.scalars(
            select(OrgUnit)
            .join(Liaison, Liaison.committee_id == OrgUnit.id)
            .where(Liaison.person_id == viewer.person.id)
            .order_by(OrgUnit.path)
        ).all()
        linked = [liaison.committee_summary(session, c, day) for c in mine if viewer.scope.sees_unit(c)]
        links = []
        if organises_anything(st):
            names = {c.id: c.name for c in committees}
            rows = session.execute(
                select(Person.name, Liaison.committee_id)
                .join(Liaison, Liaison.person_id == Person.id)
                .order_by(Person.name)
            ).all()
            links = [(name, names[cid]) for name, cid in rows if cid in names]
        return console.page(
            request, "console/inspection.html", linked=linked, links=links, viewer=viewer, status_code=status, nav="inspection",
            title=ins.TITLE, rounds=visible, labels=ROUND_KIND_LABELS, organiser=organises_anything(st),
            committees=committees, branches=branches, counts=counts, quarter=dates.fmt_quarter(day),
            items=items, categories=BRANCH_CATEGORY_LABELS, problem=problem, notice=notice, day=day,
            pickers=_pickers(viewer, st), kinds=RoundKind,
        )  # fmt: skip

    def _pickers(viewer: Viewer, st: rounds.Standing) -> list[tuple[str, list[tuple[int, str]]]]:
        """Who may be named an inspector, grouped for the form's picker: the 组织部 first, then each
        committee's leaders, then the other people in the viewer's reach by branch (a named
        inspector can be anyone, but these are the plausible ones: one flat list of everyone was
        unusable). The 包保 picker takes the first group only (a cadre is 组织部 staff)."""
        if not st.staff_paths:
            return []
        session = viewer.session

        def near(unit: OrgUnit | None) -> bool:  # over, or under, what the viewer organises
            return unit is None or any(
                p == "" or unit.path.startswith(p) or p.startswith(unit.path) for p in st.staff_paths
            )

        rows = session.execute(
            select(Person.id, Person.name, RoleAssignment.role, OrgUnit)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .outerjoin(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
            .where(
                Person.active.is_(True), RoleAssignment.role.in_({Role.ORG_STAFF, *rounds.COMMITTEE_ROLES})
            )
            .order_by(OrgUnit.path.nulls_first(), Person.name)
        ).all()
        staff: dict[int, str] = {}
        leaders: dict[str, dict[int, list[str]]] = {}
        for pid, name, role, unit in rows:
            if not near(unit):
                continue
            if role == Role.ORG_STAFF:
                staff[pid] = f"{name}（组织部）"
            elif unit is not None and unit.kind == UnitKind.COMMITTEE:
                leaders.setdefault(unit.name, {}).setdefault(pid, [name]).append(ROLE_LABELS[role])
        groups = [("组织部", sorted(staff.items(), key=lambda x: x[1]))]
        for committee, people in leaders.items():
            groups.append(
                (f"{committee}负责人", [(pid, f"{v[0]}（{'、'.join(v[1:])}）") for pid, v in people.items()])
            )
        named = set(staff) | {pid for people in leaders.values() for pid in people}
        others = session.execute(
            select(Person.id, Person.name, OrgUnit.name)
            .join(OrgUnit, OrgUnit.id == Person.branch_id)
            .where(Person.active.is_(True), viewer.scope.person_clause())
            .order_by(OrgUnit.path, Person.name)
            .limit(500)
        ).all()
        by_branch: dict[str, list[tuple[int, str]]] = {}
        for pid, name, branch in others:
            if pid not in named:
                by_branch.setdefault(f"其他：{branch}", []).append((pid, name))
        return [g for g in groups if g[1]] + list(by_branch.items())

    @router.get("/inspection", response_class=HTMLResponse)
    def index(request: Request, viewer: ViewerDep, notice: str = ""):
        st = standing(viewer)
        known = {"round": ins.SAVED_ROUND, "item": ins.SAVED_ITEM, "liaison": ins.SAVED_LIAISON}
        return render_index(request, viewer, st, notice="已保存。" if notice in known else "")

    @router.post("/inspection/rounds", response_class=HTMLResponse)
    async def create_round(request: Request, viewer: ViewerDep):
        """A 督查 or 巡查指导 round: `units` one branch id a line, each with `inspector_<id>`."""
        form = await request.form()
        session, st = viewer.session, standing(viewer)
        kind = RoundKind.GUIDANCE if form.get("kind") == "guidance" else RoundKind.SUPERVISION
        try:
            assignments = []
            for raw in form.getlist("units"):
                branch = session.get(OrgUnit, int(raw)) if str(raw).isdigit() else None
                if branch is None or not viewer.scope.sees_unit(branch):
                    return not_found(request, viewer)
                inspector = str(form.get(f"inspector_{branch.id}", "") or form.get("inspector", ""))
                assignments.append((branch, int(inspector) if inspector.isdigit() else None, None))
            unit_id = str(form.get("unit", ""))
            unit = session.get(OrgUnit, int(unit_id)) if unit_id.isdigit() else None
            if unit_id and (unit is None or not viewer.scope.sees_unit(unit)):
                return not_found(request, viewer)
            rnd = rounds.open_round(
                session, st, kind=kind, title=str(form.get("title", "")), unit=unit, assignments=assignments,
                today=today(), scope_kind=str(form.get("scope_kind", ""))[:16],
                target_kind=str(form.get("target_kind", ""))[:16], method=str(form.get("method", ""))[:16],
            )  # fmt: skip
        except Refused as exc:
            if exc.status == 422:
                return render_index(request, viewer, st, status=422, problem=str(exc))
            return refused(request, viewer, exc)
        return RedirectResponse(f"{PREFIX}/inspection/round?id={rnd.id}", status_code=303)

    @router.post("/inspection/patrol", response_class=HTMLResponse)
    async def patrol(request: Request, viewer: ViewerDep):
        form = await form_of(request)
        st = standing(viewer)
        if "" not in st.staff_paths:
            return refused(request, viewer, Refused(ins.NOT_ORGANISER, status=403))
        month = dates.parse_month(form.get("month", ""), today()) or today()
        try:
            share = float(form.get("share", "") or inspection_config(console.core).patrol_share * 100) / 100
            rnd = draw.patrol_month(
                viewer.session, month, now=console.clock(), cfg=inspection_config(console.core), share=share,
                created_by_id=viewer.person.id, public_base_url=console.core.public_base_url,
            )  # fmt: skip
        except ValueError:
            return render_index(request, viewer, st, status=422, problem=ins.BAD_SHARE)
        except Refused as exc:
            if exc.status == 422:
                return render_index(request, viewer, st, status=422, problem=str(exc))
            return refused(request, viewer, exc)
        return RedirectResponse(f"{PREFIX}/inspection/round?id={rnd.id}", status_code=303)

    @router.post("/inspection/cross", response_class=HTMLResponse)
    async def cross(request: Request, viewer: ViewerDep):
        st = standing(viewer)
        form = await form_of(request)
        committee_id = form.get("committee", "")
        committee = viewer.session.get(OrgUnit, int(committee_id)) if committee_id.isdigit() else None
        if committee is None or committee.kind != UnitKind.COMMITTEE or not viewer.scope.sees_unit(committee):
            return not_found(request, viewer)
        try:
            period = (rounds.parse_day(form.get("start", "")), rounds.parse_day(form.get("end", "")))
            rnd = draw.open_cross(viewer.session, st, committee, form.get("title", ""), period, today=today())
        except Refused as exc:
            if exc.status == 422:
                return render_index(request, viewer, st, status=422, problem=str(exc))
            return refused(request, viewer, exc)
        return RedirectResponse(f"{PREFIX}/inspection/round?id={rnd.id}", status_code=303)

    @router.post("/inspection/items", response_class=HTMLResponse)
    async def add_item(request: Request, viewer: ViewerDep):
        st = standing(viewer)
        form = await request.form()
        if not st.staff_paths:
            return refused(request, viewer, Refused(ins.NOT_ORGANISER, status=403))
        kind = RoundKind.GUIDANCE if form.get("list") == "guidance" else RoundKind.SUPERVISION
        try:
            guidance.add_item(
                viewer.session, today().year, kind, str(form.get("title", "")),
                [str(c) for c in form.getlist("categories")],
            )  # fmt: skip
        except Refused as exc:
            return render_index(request, viewer, st, status=422, problem=str(exc))
        return RedirectResponse(f"{PREFIX}/inspection?notice=item", status_code=303)

    @router.post("/inspection/liaison", response_class=HTMLResponse)
    async def set_liaison(request: Request, viewer: ViewerDep):
        """包保联系: the cadre's 1–3 committees (replacing their earlier ones)."""
        st = standing(viewer)
        form = await request.form()
        session = viewer.session
        cadre_id = str(form.get("person", ""))
        cadre = session.get(Person, int(cadre_id)) if cadre_id.isdigit() else None
        if cadre is None or not viewer.scope.sees_person(session, cadre):
            return not_found(request, viewer)
        committees = []
        for raw in form.getlist("committees"):
            unit = session.get(OrgUnit, int(raw)) if str(raw).isdigit() else None
            if unit is None or not viewer.scope.sees_unit(unit):
                return not_found(request, viewer)
            committees.append(unit)
        try:
            liaison.assign(session, st, cadre, committees, inspection_config(console.core))
        except Refused as exc:
            if exc.status == 422:
                return render_index(request, viewer, st, status=422, problem=str(exc))
            return refused(request, viewer, exc)
        return RedirectResponse(f"{PREFIX}/inspection?notice=liaison", status_code=303)

    # ---- a round

    def round_or_none(viewer: Viewer, st: rounds.Standing, round_id: int):
        rnd = viewer.session.get(InspectionRound, round_id) if round_id else None
        if rnd is None:
            return None, []
        seen = rounds.visible_units(viewer.session, st, rnd, today())
        return (rnd, seen) if seen else (None, [])

    def render_round(
        request: Request, viewer: Viewer, st: rounds.Standing, rnd: InspectionRound, seen, *, status: int = 200,
        problem: str = "", notice: str = "",
    ):  # fmt: skip
        session = viewer.session
        branches = {
            b.id: b
            for b in session.scalars(
                select(OrgUnit).where(
                    OrgUnit.id.in_(
                        {u.branch_id for u in seen}
                        | {u.checker_branch_id for u in seen if u.checker_branch_id}
                    )
                )
            )
        }
        checklist = rounds.checklist(session, rnd)
        people = _names(
            session,
            {u.inspector_id for u in seen}
            | {r.owner_id for u in seen for f in u.findings if (r := f.rectification)},
        )
        rows = [
            {
                "ru": u, "branch": branches[u.branch_id], "checker": branches.get(u.checker_branch_id),
                "can_record": rnd.closed_at is None and (rounds.is_checker(st, u) or rounds.is_organiser(session, st, rnd)),
                "can_decide": rounds.is_checker(st, u) or rounds.is_organiser(session, st, rnd),
                "items": rounds.applying(checklist, branches[u.branch_id]),
                "checks_other": rounds.is_checker(st, u) and u.checker_branch_id is not None,
            }
            for u in seen
        ]  # fmt: skip
        for row in rows:  # after the close only a recorded finding can be corrected: the checklist's first
            order = {i.title: n for n, i in enumerate(row["items"])}
            titles = {f.item_title for f in row["ru"].findings}
            row["corrigible"] = sorted(titles, key=lambda t: (order.get(t, len(order)), t))
        return console.page(
            request, "console/inspection_round.html", viewer=viewer, status_code=status, nav="inspection",
            title=rnd.title, rnd=rnd, rows=rows, people=people, labels=ROUND_KIND_LABELS,
            organiser=rounds.is_organiser(session, st, rnd), problem=problem, notice=notice,
            rect_labels=ins.RECT_STATUS_LABELS, ins=ins, tz=tz,
        )  # fmt: skip

    def number(text) -> int:
        text = str(text or "").strip()
        return int(text) if text.isdigit() and len(text) < 10 else 0

    @router.get("/inspection/round", response_class=HTMLResponse)
    def round_page(request: Request, viewer: ViewerDep, id: str = "", saved: str = ""):
        st = standing(viewer)
        if not id:
            return render_index(request, viewer, st)
        rnd, seen = round_or_none(viewer, st, number(id))
        if rnd is None:
            return not_found(request, viewer)
        return render_round(request, viewer, st, rnd, seen, notice="已保存。" if saved else "")

    @router.post("/inspection/round/findings", response_class=HTMLResponse)
    async def finding(request: Request, viewer: ViewerDep):
        st = standing(viewer)
        form = await request.form()
        rnd, seen = round_or_none(viewer, st, number(form.get("round")))
        branch_id = str(form.get("branch", ""))
        ru = next((u for u in seen if str(u.branch_id) == branch_id), None)
        if rnd is None or ru is None:
            return not_found(request, viewer)
        try:
            due = str(form.get("due_on", "")).strip()
            owner = str(form.get("owner", ""))
            rounds.record_finding(
                viewer.session, st, rnd, ru, item=str(form.get("item", "")),
                ok=form.get("result") == "ok", text=str(form.get("text", "")),
                due_on=rounds.parse_day(due) if due else None, owner_id=int(owner) if owner.isdigit() else None,
                now=console.clock(), today=today(), cfg=inspection_config(console.core),
                correction_reason=str(form.get("reason", "")),
            )  # fmt: skip
        except Refused as exc:
            if exc.status == 422:
                return render_round(request, viewer, st, rnd, seen, status=422, problem=str(exc))
            return refused(request, viewer, exc)
        return RedirectResponse(
            f"{PREFIX}/inspection/round?id={rnd.id}&saved=1#u{ru.branch_id}", status_code=303
        )

    @router.post("/inspection/round/close", response_class=HTMLResponse)
    async def close(request: Request, viewer: ViewerDep):
        st = standing(viewer)
        form = await form_of(request)
        rnd, _seen = round_or_none(viewer, st, number(form.get("round")))
        if rnd is None:
            return not_found(request, viewer)
        try:
            rounds.close_round(viewer.session, st, rnd, now=console.clock())
        except Refused as exc:
            return refused(request, viewer, exc)
        return RedirectResponse(f"{PREFIX}/inspection/round?id={rnd.id}&saved=1", status_code=303)

    @router.post("/inspection/rectification", response_class=HTMLResponse)
    async def decide(request: Request, viewer: ViewerDep):
        st = standing(viewer)
        form = await form_of(request)
        try:
            rect = rounds.get_rect(viewer.session, number(form.get("rect")))
        except Refused:
            return not_found(request, viewer)
        rnd, seen = round_or_none(viewer, st, rect.finding.round_unit.round_id)
        if rnd is None or rect.finding.round_unit not in seen:
            return not_found(request, viewer)
        try:
            rounds.decide(
                viewer.session, st, rect, confirm=form.get("decision") == "confirm",
                reason=form.get("reason", ""), now=console.clock(),
            )  # fmt: skip
        except Refused as exc:
            if exc.status == 422:
                return render_round(request, viewer, st, rnd, seen, status=422, problem=str(exc))
            return refused(request, viewer, exc)
        return RedirectResponse(
            f"{PREFIX}/inspection/round?id={rnd.id}&saved=1#u{rect.branch_id}", status_code=303
        )

    @router.get("/inspection/ledger", response_class=HTMLResponse)
    def other_ledger(request: Request, viewer: ViewerDep, round: str = "", branch: str = ""):
        """交叉互查: the checked branch's meetings of the period, read-only, for its checker (and organisers)."""
        st = standing(viewer)
        if not round:
            return render_index(request, viewer, st)
        rnd, seen = round_or_none(viewer, st, number(round))
        branch_id = number(branch)
        ru = next((u for u in seen if u.branch_id == branch_id), None)
        if rnd is None or ru is None or rnd.kind != RoundKind.CROSS or rnd.period_start is None:
            return not_found(request, viewer)
        if not (rounds.is_checker(st, ru) or rounds.is_organiser(viewer.session, st, rnd)):
            return not_found(request, viewer)
        start, end = rnd.period_start, rnd.period_end
        meetings = viewer.session.scalars(
            select(Meeting).where(Meeting.branch_id == branch_id).order_by(Meeting.starts_at)
        ).all()
        meetings = [m for m in meetings if start <= m.starts_at.astimezone(tz).date() <= end]
        return console.page(
            request, "console/inspection_ledger.html", viewer=viewer, nav="inspection", title=rnd.title,
            rnd=rnd, branch=viewer.session.get(OrgUnit, branch_id), meetings=meetings, tz=tz,
        )  # fmt: skip

    # ---- the unit's file

    def file_of(viewer: Viewer, st: rounds.Standing, branch_id: int):
        branch = viewer.session.get(OrgUnit, branch_id)
        if branch is None or branch.kind != UnitKind.BRANCH:
            return None, []
        ids = rounds.rounds_seen_of(viewer.session, st, branch_id, today())
        if not ids and not viewer.scope.sees_unit(branch):
            return None, []
        return branch, rounds.unit_file(viewer.session, branch, visible_round_ids=ids)

    @router.get("/inspection/units/{branch_id}", response_class=HTMLResponse)
    def unit_page(request: Request, viewer: ViewerDep, branch_id: Id):
        st = standing(viewer)
        branch, entries = file_of(viewer, st, branch_id)
        if branch is None:
            return not_found(request, viewer)
        return console.page(
            request, "console/inspection_unit.html", viewer=viewer, nav="inspection",
            title=ins.FILE_TITLE.format(unit=branch.name), branch=branch, entries=entries, labels=ROUND_KIND_LABELS,
            people=_names(viewer.session, {e.unit.inspector_id for e in entries}), rect_labels=ins.RECT_STATUS_LABELS,
            ins=ins, tz=tz,
        )  # fmt: skip

    @router.get("/inspection/units/{branch_id}/file.docx")
    def unit_docx(request: Request, viewer: ViewerDep, branch_id: Id):
        st = standing(viewer)
        branch, entries = file_of(viewer, st, branch_id)
        if branch is None:
            return not_found(request, viewer)
        body = unit_file_docx(viewer.session, branch, entries, tz)
        name = f"{branch.name}督查档案.docx"
        return LedgerPages.download(body, DOCX, name)

    return router
