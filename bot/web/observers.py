"""H5 pages of the observers feature: the 观察质量评价表 opened from the notice card, and the yearly
record as .xlsx. All under /h5/observers.

Wiring (the app factory), like the meetings pages::

    from bot.web.observers import build_observers_router
    app.include_router(build_observers_router(session_factory, app.state.identities, clock=clock))

``core`` (tz, public URL, secret key) defaults to the settings'; tests pass their own.

Identity is the shared H5 session (bot.web.h5): a member identified on any H5 page is known here;
the exchange endpoints are mounted here too (/h5/observers/session, /h5/observers/auth/wecom).
Identity never comes from the URL or a form field.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from bot.web.api import (
    DEFAULT_LIMIT,
    NOT_FOUND,
    WRITE_RESPONSES,
    Id,
    LimitQuery,
    OffsetQuery,
    Page,
    PersonRef,
    Principal,
    PrincipalDep,
    SessionDep,
    UnitRef,
    WriterDep,
    not_found,
    paginate,
    refused,
    unit_in_scope,
)
from bot.web.h5 import H5Pages, feature_router, photo_response, read_form
from handlers.common import dates
from handlers.observers import access, assignments, observation, strings
from handlers.observers.export import export_xlsx
from handlers.observers.forms import H5_PREFIX, FormPreset, ObserversConfig, observers_config
from models import attachments
from models.db import unit_of_work
from models.observers import ObserverAssignment
from models.org import OrgUnit, Person, Role

logger = logging.getLogger(__name__)

PREFIX = H5_PREFIX
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FormBody(BaseModel):
    """The 观察质量评价表 as its H5 page posts it: JSON, or the text fields of a multipart form with
    photos. Values are text (numbers are taken as typed); forms.parse_form then checks them all and
    names every problem in Chinese. Each item's score_<key> and comment_<key> come from the preset
    (form_body); anything else is ignored."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    comment: str = ""
    outcome: str = ""
    correct_by: str = ""
    issues: str | list[str] = Field("", description="One item per line, or a list.")


_FORM_BODIES: dict[str, type[FormBody]] = {}


def form_body(preset: FormPreset) -> type[FormBody]:
    """FormBody with the preset's item fields, built once per preset."""
    if preset.key not in _FORM_BODIES:
        items = {}
        for item in preset.items:
            items[f"score_{item.key}"] = (str | None, None)
            items[f"comment_{item.key}"] = (str, "")
        _FORM_BODIES[preset.key] = create_model(f"FormBody_{preset.key}", __base__=FormBody, **items)
    return _FORM_BODIES[preset.key]


@feature_router(prefix=PREFIX, context={"o": strings})
def build_observers_router(h5: H5Pages, *, cfg: ObserversConfig | None = None) -> APIRouter:
    session_factory, clock, core = h5.session_factory, h5.clock, h5.core
    router = h5.router()
    session_person, page = h5.person, h5.page

    def config() -> ObserversConfig:
        return cfg or observers_config(core)

    # ---- the evaluation form

    def _values(ctx: observation.FormContext) -> dict[str, str]:
        obs = ctx.existing
        if obs is None:
            return {}
        values = {"comment": obs.comment, "outcome": obs.outcome.value}
        for item in obs.items:
            values[f"score_{item['key']}"] = str(item["score"])
            values[f"comment_{item['key']}"] = item.get("comment", "")
        if obs.correct_by:
            values["correct_by"] = obs.correct_by.isoformat()
        values["issues"] = "\n".join(r.text for r in obs.rectifications)
        return values

    @router.get("/{meeting_id}/form")
    def form_page(request: Request, meeting_id: Id):
        c = config()
        with unit_of_work(session_factory) as session:
            person = session_person(request, session)
            if person is None:
                return h5.identify(request)
            ctx = observation.open_form(session, person, meeting_id, now=clock(), cfg=c)
            deadline = dates.fmt_full_day(ctx.deadline)
            context = {
                "meeting_id": meeting_id,
                "branch": ctx.branch.name,
                "meeting_title": ctx.meeting.title,
                "when": dates.fmt_when(ctx.meeting.starts_at, c.tz),
                "place": ctx.meeting.place,
                "form_name": c.form.name,
                "items": c.form.items,
                "outcomes": [(o.value, label) for o, label in strings.OUTCOME_LABELS.items()],
                "values": _values(ctx),
                "photos": [
                    f"{PREFIX}/{meeting_id}/photos/{p.id}"
                    for p in (
                        attachments.photos_of(session, attachments.OBSERVATION, ctx.existing.id)
                        if ctx.existing
                        else []
                    )
                ],
                "a": attachments,
                "note": (strings.H5_EDITING if ctx.existing else strings.H5_DEADLINE_NOTE).format(
                    days=c.submit_days, deadline=deadline
                ),
            }
        return page(request, "observers/form.html", **context)

    @router.post("/{meeting_id}/form")
    async def form_submit(request: Request, meeting_id: Id):
        # Multipart when photos are attached, JSON otherwise (bot.web.h5.read_form).
        payload, uploads = await read_form(request)
        return await run_in_threadpool(save_form, request, meeting_id, payload, uploads)

    def save_form(request: Request, meeting_id: int, payload: dict, uploads: list[attachments.Upload]):
        c = config()
        try:
            body = form_body(c.form).model_validate(payload)
        except ValidationError as exc:
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            raise Refused(strings.H5_BAD_FORM, tuple(fields)) from None
        # A refusal leaves the block by raising: the unit of work rolls back (nothing is saved) and the
        # app answers it.
        with unit_of_work(session_factory) as session:
            person = session_person(request, session)
            if person is None:
                return JSONResponse({"error": strings.H5_NEED_LOGIN}, status_code=401)
            try:
                photos = attachments.check_photos(uploads)
            except attachments.PhotoError as exc:
                raise Refused(str(exc), ("photos",)) from None
            obs = observation.submit_observation(
                session, person, meeting_id, body.model_dump(), now=clock(), cfg=c, photos=photos
            )
            message = strings.FORM_SAVED.format(
                total=obs.total,
                max_total=obs.max_total,
                grade=obs.grade,
                outcome=strings.OUTCOME_LABELS[obs.outcome],
                days=c.submit_days,
            )
        return {"ok": True, "message": message}

    @router.get("/{meeting_id}/photos/{photo_id}")
    def form_photo(request: Request, meeting_id: Id, photo_id: Id):
        """A photo of an evaluation, for those who see the evaluation (access.observation_photo)."""
        with unit_of_work(session_factory) as session:
            person = session_person(request, session)
            if person is None:
                return JSONResponse({"error": strings.H5_NEED_LOGIN}, status_code=401)
            photo = access.observation_photo(session, person, meeting_id, photo_id, config())
            return photo_response(photo)

    # ---- the yearly record

    @router.get("/export.xlsx")
    def export(request: Request, year: int | None = None):
        c = config()
        now = clock()
        with unit_of_work(session_factory) as session:
            person = session_person(request, session)
            if person is None:
                return h5.identify(request)
            ids, admin = access.stats_scope(session, person)
            if not admin:
                raise Refused(strings.H5_EXPORT_DENIED, status=403)
            year = year or now.astimezone(c.tz).year
            within = access.coverage_scope(session, person)
            data = export_xlsx(session, year, now=now, cfg=c, observer_ids=ids, coverage_within=within)
        filename = f"observers-{year}.xlsx"
        return Response(
            data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )

    return router


# ---- JSON API (/api/v1/observers/...), passed to build_api_router(features=[observers_api])


# The roster is where the 观察员 role is given; the API only links an observer to branches.
NOT_AN_OBSERVER = "{name}不是观察员，不能联系支部。请先在花名册的“职务”中登记观察员，例如“观察员（县直机关工委）”，导入后再分配。"


class AssignmentIn(BaseModel):
    observer_id: Id = Field(description="The observer: a person holding the 观察员 role.")
    branch_id: Id = Field(description="The 党支部 they observe; never their own.")


class AssignmentOut(BaseModel):
    id: int
    observer: PersonRef
    branch: UnitRef
    active: bool = Field(description="False once the link was ended (kept for the record).")


observers_api = APIRouter(tags=["observers"])


def _person_in_scope(session: Session, principal: Principal, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise not_found("person", person_id)
    paths = [person.branch.path] if person.branch is not None else []
    paths += [ra.org_unit.path for ra in person.roles if ra.org_unit is not None]
    if principal.scope_path is not None and not any(principal.sees_path(p) for p in paths):
        raise not_found("person", person_id)
    return person


def _assignment_out(session: Session, link: ObserverAssignment) -> AssignmentOut:
    person, unit = session.get(Person, link.observer_id), session.get(OrgUnit, link.branch_id)
    return AssignmentOut(
        id=link.id,
        observer=PersonRef(id=person.id, name=person.name),
        branch=UnitRef(id=unit.id, name=unit.name, kind=unit.kind),
        active=link.active,
    )


@observers_api.get("/observers/assignments", response_model=Page[AssignmentOut], responses=NOT_FOUND)
def list_assignments(
    session: SessionDep,
    principal: PrincipalDep,
    branch_id: Annotated[Id | None, Query(description="Only this branch's observers.")] = None,
    observer_id: Annotated[Id | None, Query(description="Only this observer's branches.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or ended (false) links.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
) -> Page[AssignmentOut]:
    """Observer ↔ branch links whose branch lies in the token's scope."""
    stmt = select(ObserverAssignment).join(OrgUnit, OrgUnit.id == ObserverAssignment.branch_id)
    stmt = stmt.where(principal.unit_clause())
    if branch_id is not None:
        stmt = stmt.where(ObserverAssignment.branch_id == unit_in_scope(session, principal, branch_id).id)
    if observer_id is not None:
        stmt = stmt.where(ObserverAssignment.observer_id == observer_id)
    if active is not None:
        stmt = stmt.where(ObserverAssignment.active.is_(active))
    rows, total = paginate(session, stmt, [ObserverAssignment.id], limit, offset)
    return Page(items=[_assignment_out(session, r) for r in rows], total=total, limit=limit, offset=offset)


@observers_api.post(
    "/observers/assignments",
    response_model=AssignmentOut,
    status_code=201,
    responses={**WRITE_RESPONSES, **NOT_FOUND},
)
def create_assignment(session: SessionDep, principal: WriterDep, body: AssignmentIn) -> AssignmentOut:
    """Link an observer to a branch. 422 with the reason when refused: the person does not hold the
    观察员 role, the branch is their own, or the link already exists."""
    unit_in_scope(session, principal, body.branch_id)
    person = _person_in_scope(session, principal, body.observer_id)
    # Any 观察员 role will do, whichever committee appointed them: cross-committee observation is allowed.
    if not any(ra.role == Role.OBSERVER for ra in person.roles):
        raise refused(NOT_AN_OBSERVER.format(name=person.name), "body", "observer_id")
    link = assignments.assign_observer(session, body.observer_id, body.branch_id)  # a refusal: 422
    return _assignment_out(session, link)


@observers_api.delete(
    "/observers/assignments/{assignment_id}", status_code=204, responses={**WRITE_RESPONSES, **NOT_FOUND}
)
def end_assignment(session: SessionDep, principal: WriterDep, assignment_id: Id) -> Response:
    """End a link (it stays in the record, inactive)."""
    link = session.get(ObserverAssignment, assignment_id)
    if link is None or not principal.sees_path(session.get(OrgUnit, link.branch_id).path):
        raise not_found("assignment", assignment_id)
    link.active = False
    session.flush()
    return Response(status_code=204)
