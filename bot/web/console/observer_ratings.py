"""观察员年度评定 page: /console/observer-ratings?year=2026, the observers rated by the committees of the
viewer's scope (each with the committee that appointed them), the software's proposal and its reasons, the
year's training beside it, the committee's grade, and a form per row for those who rate (the
书记/副书记/组织委员 of that committee or one above, or 组织部: handlers.observers.yearly.rater). An observer
sees their own rows, without a form. Below, the year's training sessions and a form to record one.

A committee outside the scope answers 404, a row the viewer sees but may not rate (their own) 403, a bad
grade, a change without a reason or a bad training 422, each with the reason and nothing changed. A refused
grade is shown on the page of its row, naming the observer, with what was typed kept; its form posts to
/observer-ratings/{committee}/{observer}?year=…, and a GET of that address (a reload, a reopened tab) shows
the year's page again instead of 405."""

from datetime import date
from typing import Annotated

from annotated_types import Ge, Le
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from bot.core.errors import Refused
from bot.web.api.schemas import MAX_ID, Id
from bot.web.console.deps import PREFIX, ConsoleApp, Viewer, viewer_type
from handlers.console import strings as console_strings
from handlers.observers import strings as os_
from handlers.observers import yearly
from handlers.observers.forms import observers_config
from handlers.observers.yearly_config import yearly_config
from handlers.observers.yearly_proposal import rated_pairs
from models.observer_rating import GRADE_LABELS, GRADE_ORDER, ObserverTraining
from models.org import OrgUnit, Person, UnitKind

PAGE_SIZE = 100
# A refused grade, named (100 rows a page: "请填写调整的理由" alone does not say whose). To move to
# handlers/observers/strings.py (YEAR_REFUSED_ROW) with the feature's other sentences.
REFUSED_ROW = "{observer}（{committee}）：{problem}"


def _saved_notice(rows: list[dict], saved: tuple[int, int] | None, year: int) -> str:
    """After a decision, the page says what was saved, from the row itself (never text from the URL)."""
    for row in rows:
        r = row["rating"]
        if (
            (row["observer"].id, row["committee"].id) == saved
            and r is not None
            and r.confirmed_grade is not None
        ):
            return os_.YEAR_SAVED.format(
                observer=row["observer"].name, year=year, grade=GRADE_LABELS[r.confirmed_grade]
            )
    return ""


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    tz = console.core.tz

    def render(
        request: Request, viewer: Viewer, year: int, number: int, *, status: int = 200, problem: str = "",
        saved: tuple[int, int] | None = None, trained: int | None = None, form: dict | None = None,
        focus: tuple[int, int] | None = None,
    ) -> HTMLResponse:  # fmt: skip
        """The year's page; with `focus` (observer, committee) the page of the list that holds that row."""
        session, scope = viewer.session, viewer.scope
        ocfg, cfg = observers_config(console.core), yearly_config(console.core)
        me = viewer.person.id
        pairs = rated_pairs(session, year, ocfg=ocfg, keep=lambda o, c: scope.sees_unit(c) or o == me)
        total = len(pairs)
        at = next((i for i, (o, c) in enumerate(pairs) if (o, c.id) == focus), None)
        if at is not None:
            number = at // PAGE_SIZE + 1
        page_pairs = pairs[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        who = yearly.rater(session, me, cfg)
        ratings = yearly.refresh(
            session, [(o, c.id) for o, c in page_pairs], year, now=console.clock(), ocfg=ocfg, cfg=cfg
        )
        people_ids = {o for o, _ in page_pairs} | {r.confirmed_by_id for r in ratings.values()} - {None}
        people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(people_ids)))}
        trainings = yearly.trainings_of(session, [o for o, _ in page_pairs], year)
        rows = [
            {
                "observer": people[o],
                "committee": c,
                "rating": ratings.get((o, c.id)),
                "can_rate": who.rates(o, c),
                "trainings": trainings.get(o, []),
                "training_summary": yearly.training_summary(trainings.get(o, [])),
                "by": people[r.confirmed_by_id].name
                if (r := ratings.get((o, c.id))) is not None and r.confirmed_by_id in people
                else "",
            }
            for o, c in page_pairs
        ]
        # The training form: committees the viewer rates for, and their observers (every page's).
        units = {c.id: c for _, c in pairs if who.covers(c)}
        names = dict(
            session.execute(
                select(Person.id, Person.name).where(Person.id.in_({o for o, c in pairs if c.id in units}))
            ).all()
        )
        candidates = sorted({(names[o], o) for o, c in pairs if c.id in units and o in names})
        held = session.scalars(
            select(ObserverTraining)
            .join(OrgUnit, OrgUnit.id == ObserverTraining.unit_id)
            .where(
                scope.unit_clause(),
                ObserverTraining.held_on >= date(year, 1, 1),
                ObserverTraining.held_on <= date(year, 12, 31),
            )
            .order_by(ObserverTraining.held_on.desc(), ObserverTraining.id.desc())
        ).all()
        attendee_names = dict(
            session.execute(
                select(Person.id, Person.name).where(
                    Person.id.in_({a.observer_id for t in held for a in t.attendees})
                )
            ).all()
        )
        unit_names = dict(
            session.execute(
                select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_({t.unit_id for t in held}))
            ).all()
        )
        notice = _saved_notice(rows, saved, year)
        for t in held:
            if t.id == trained:
                notice = os_.TRAINING_SAVED.format(
                    day=t.held_on.isoformat(),
                    title=t.title,
                    hours=yearly.fmt_hours(t.hours),
                    n=len(t.attendees),
                )
        return console.page(
            request,
            "console/observer_ratings.html",
            viewer=viewer,
            status_code=status,
            nav="year",
            title=os_.YEAR_TITLE,
            year=year,
            rows=rows,
            labels=GRADE_LABELS,
            grades=GRADE_ORDER,
            os_=os_,
            tz=tz,
            number=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            problem=problem,
            notice=notice,
            form=form or {},
            units=sorted(units.values(), key=lambda u: u.path),
            candidates=candidates,
            held=held,
            attendee_names=attendee_names,
            unit_names=unit_names,
            fmt_hours=yearly.fmt_hours,
            today=console.clock().astimezone(tz).date(),
        )

    def the_year(text: str) -> int:
        return yearly.year_of(text, console.clock().astimezone(tz).date())

    def not_found(request: Request, viewer: Viewer) -> HTMLResponse:
        return console.message(
            request, console_strings.FORBIDDEN, console_strings.NOT_FOUND, status=404, viewer=viewer
        )

    @router.get("/observer-ratings", response_class=HTMLResponse)
    def observer_ratings_page(
        request: Request, viewer: ViewerDep, year: str = "", page: Annotated[int, Ge(1), Le(MAX_ID)] = 1,
        saved: Id | None = None, by: Id | None = None, trained: Id | None = None,
    ):  # fmt: skip
        try:
            y = the_year(year)
        except Refused as exc:
            return console.message(request, console_strings.FORBIDDEN, str(exc), status=422, viewer=viewer)
        return render(request, viewer, y, page, saved=(saved, by) if saved and by else None, trained=trained)

    @router.post("/observer-ratings/trainings", response_class=HTMLResponse)
    async def record_training(request: Request, viewer: ViewerDep):
        raw = await request.form()
        form = {k: str(v) for k, v in raw.items() if k not in ("csrf_token", "attendee")}
        attendees = [str(v) for v in raw.getlist("attendee")]
        try:
            y = the_year(form.get("year", ""))
        except Refused as exc:
            return console.message(request, console_strings.FORBIDDEN, str(exc), status=422, viewer=viewer)
        unit_text = form.get("unit", "").strip()
        unit = (
            viewer.session.get(OrgUnit, int(unit_text))
            if unit_text.isdigit() and len(unit_text) < 12
            else None
        )
        if unit is None or not viewer.scope.sees_unit(unit):
            return not_found(request, viewer)
        try:
            training = yearly.record_training(
                viewer.session, viewer.person.id, unit, y, form, attendees, now=console.clock(),
                ocfg=observers_config(console.core), cfg=yearly_config(console.core),
            )  # fmt: skip
        except yearly.NotRater as exc:
            return console.message(request, console_strings.FORBIDDEN, str(exc), status=403, viewer=viewer)
        except Refused as exc:
            kept = {**form, "training": "1", "attendees": set(attendees)}
            return render(request, viewer, y, 1, status=422, problem=str(exc), form=kept)
        # Post/redirect/get: a reload does not record the training again.
        return RedirectResponse(
            f"{PREFIX}/observer-ratings?year={y}&trained={training.id}#trainings", status_code=303
        )

    def row_of(
        viewer: Viewer, committee_id: int, person_id: int, *, any_person_seen: bool = False
    ) -> tuple[OrgUnit, Person] | None:
        """The committee and the observer of a row's address, or None when the viewer may not see them: a
        committee in their scope, or their own row; with `any_person_seen`, also any person they may see
        (the GET of a row's address, which only shows the year's page)."""
        committee = viewer.session.get(OrgUnit, committee_id)
        observer = viewer.session.get(Person, person_id)
        if committee is None or committee.kind != UnitKind.COMMITTEE or observer is None:
            return None
        if viewer.scope.sees_unit(committee) or observer.id == viewer.person.id:
            return committee, observer
        if any_person_seen and viewer.scope.sees_person(viewer.session, observer):
            return committee, observer
        return None

    # A row's address is where a refused grade's page was shown (the form posts there): opening it again
    # (a restored tab, the address bar, a reload once the browser let go of the form) shows the year's page
    # at that row instead of 405. Any address naming a committee and a person the viewer may see will do
    # (a branch's 书记 and a member of the branch): the page itself shows only the viewer's rows.
    @router.get("/observer-ratings/{committee_id}/{person_id}", response_class=HTMLResponse)
    def observer_rating_row(
        request: Request, viewer: ViewerDep, committee_id: Id, person_id: Id, year: str = ""
    ):
        if row_of(viewer, committee_id, person_id, any_person_seen=True) is None:
            return not_found(request, viewer)
        try:
            y = the_year(year)
        except Refused as exc:
            return console.message(request, console_strings.FORBIDDEN, str(exc), status=422, viewer=viewer)
        return render(request, viewer, y, 1, focus=(person_id, committee_id))

    # {person_id}: the observer (the name the console's scope test knows a person by).
    @router.post("/observer-ratings/{committee_id}/{person_id}", response_class=HTMLResponse)
    async def rate(request: Request, viewer: ViewerDep, committee_id: Id, person_id: Id):
        form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
        found = row_of(viewer, committee_id, person_id)
        if found is None:
            return not_found(request, viewer)
        committee, observer = found
        try:
            y = the_year(form.get("year", ""))
        except Refused as exc:
            return console.message(request, console_strings.FORBIDDEN, str(exc), status=422, viewer=viewer)
        try:
            decision = yearly.confirm(
                viewer.session, viewer.person.id, observer, committee, y, form.get("grade", ""),
                form.get("reason", ""), now=console.clock(), ocfg=observers_config(console.core),
                cfg=yearly_config(console.core),
            )  # fmt: skip
        except yearly.NotRater as exc:
            return console.message(request, console_strings.FORBIDDEN, str(exc), status=403, viewer=viewer)
        except Refused as exc:
            if exc.status == 404:
                return console.message(
                    request, console_strings.FORBIDDEN, str(exc), status=404, viewer=viewer
                )
            kept = {"row": (observer.id, committee.id), **form}
            problem = REFUSED_ROW.format(observer=observer.name, committee=committee.name, problem=exc)
            return render(
                request,
                viewer,
                y,
                1,
                status=422,
                problem=problem,
                form=kept,
                focus=(observer.id, committee.id),
            )
        row = decision.row
        # Post/redirect/get: a reload does not post the grade again.
        return RedirectResponse(
            f"{PREFIX}/observer-ratings?year={y}&saved={row.observer_id}&by={row.committee_id}"
            f"#o{row.committee_id}-{row.observer_id}",
            status_code=303,
        )

    return router
