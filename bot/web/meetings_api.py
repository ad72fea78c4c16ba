"""Meetings in the JSON API (/api/v1/meetings…), passed to build_api_router(features=[meetings_api]).

Writes go through the same use cases as chat and the H5 form (handlers.meetings.meetings), so the
notices reach invitees through the outbox exactly as from chat. The actor is the API token, not a
person: a created meeting has no created_by (the token's right was checked by its scope and its write
capability), and move / cancel run with ``authorised=True`` so no person's role is required. A meeting
is in scope when its branch is; anything else answers 404. Writes need a token created with --write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.web.api import (
    DEFAULT_LIMIT,
    NOT_FOUND,
    WRITE_RESPONSES,
    DateTimeIn,
    Id,
    LimitQuery,
    OffsetQuery,
    Page,
    PersonRef,
    Principal,
    PrincipalDep,
    Problem,
    SessionDep,
    UnitRef,
    WriterDep,
    list_route,
    not_found,
    paginate,
    refused,
    unit_in_scope,
)
from handlers.meetings import meetings as usecases
from handlers.meetings import strings
from handlers.meetings.signin import attendance_sheet
from handlers.meetings.types import DEFAULT_CONFIG, MeetingsConfig, meetings_config
from models.meetings import AttendanceMethod, AttendanceStatus, Invitee, Meeting, MeetingStatus, MeetingType
from models.org import OrgUnit, UnitKind

meetings_api = APIRouter(tags=["meetings"])

# ---- shapes


class AttendanceSummary(BaseModel):
    expected: int = Field(description="Invitees.")
    present: int = Field(description="Signed in (on time or late, by scan or 代签).")
    late: int
    leave: int = Field(description="Approved leave, not signed in.")
    missing: int = Field(description="No sign-in and no approved leave.")


class MeetingOut(BaseModel):
    id: int
    branch: UnitRef
    group: UnitRef | None
    title: str
    topic: str
    place: str
    starts_at: datetime
    status: MeetingStatus
    cancel_reason: str | None
    types: list[MeetingType]
    type_labels: list[str]
    version: int = Field(description="Goes up each time the meeting is moved.")
    invitees: int


class MeetingDetail(MeetingOut):
    attendance: AttendanceSummary


class MeetingIn(BaseModel):
    branch_id: Id = Field(description="The 党支部 holding the meeting; must be in the token's scope.")
    types: list[MeetingType] = Field(min_length=1, description="One or more meeting types.")
    starts_at: DateTimeIn = Field(description="ISO 8601 with an offset, in the future.")
    place: str = Field(min_length=1, max_length=usecases.LIMITS["place"])
    topic: str = Field(min_length=1, max_length=usecases.LIMITS["topic"])
    title: str = Field(default="", max_length=usecases.LIMITS["title"])
    group_id: Id | None = Field(default=None, description="The 党小组 (required for 党小组会).")


class MeetingMove(BaseModel):
    # At least one of the two, and neither null: the schema says so, so no valid-looking body is refused.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    starts_at: DateTimeIn = Field(default=None, description="New start, ISO 8601 with an offset.")
    place: str = Field(default=None, min_length=1, max_length=usecases.LIMITS["place"])

    @model_validator(mode="after")
    def _something_to_change(self) -> MeetingMove:
        if self.starts_at is None and self.place is None:
            raise ValueError("give starts_at and/or place")
        return self


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=usecases.LIMITS["topic"])


class ChangeOut(BaseModel):
    meeting: MeetingOut
    notified: int = Field(description="Notice rows newly queued in the outbox for invitees.")


class PresentOut(BaseModel):
    person: PersonRef
    status: AttendanceStatus
    method: AttendanceMethod
    at: datetime


class AttendanceOut(BaseModel):
    meeting_id: int
    summary: AttendanceSummary
    present: list[PresentOut]
    leave: list[PersonRef]
    missing: list[PersonRef]


# ---- helpers


def _now(request: Request) -> datetime:
    # The clock build_api_router was given (tests inject theirs).
    return request.state.zhibu_api.clock()


def _cfg(request: Request) -> MeetingsConfig:
    # The rules of the app's CoreConfig (create_app keeps it in app.state.core); an app built without
    # one (a test's own FastAPI around build_api_router) has the default rules.
    core = getattr(request.app.state, "core", None)
    return meetings_config(core) if core is not None else DEFAULT_CONFIG


def _meeting_in_scope(session: Session, principal: Principal, meeting_id: int) -> Meeting:
    meeting = session.scalars(
        select(Meeting)
        .join(OrgUnit, OrgUnit.id == Meeting.branch_id)
        .where(Meeting.id == meeting_id, principal.unit_clause())
        .options(selectinload(Meeting.kinds))
    ).first()
    if meeting is None:
        raise not_found("meeting", meeting_id)
    return meeting


def _ref(unit: OrgUnit | None) -> UnitRef | None:
    return UnitRef(id=unit.id, name=unit.name, kind=unit.kind) if unit else None


def _out(session: Session, meeting: Meeting, invitees: int) -> MeetingOut:
    types = [k.type for k in meeting.kinds]
    return MeetingOut(
        id=meeting.id,
        branch=_ref(session.get(OrgUnit, meeting.branch_id)),
        group=_ref(session.get(OrgUnit, meeting.group_id)) if meeting.group_id else None,
        title=meeting.title,
        topic=meeting.topic,
        place=meeting.place,
        starts_at=meeting.starts_at,
        status=meeting.status,
        cancel_reason=meeting.cancel_reason,
        types=types,
        type_labels=[strings.TYPE_LABELS[t] for t in types],
        version=meeting.version,
        invitees=invitees,
    )


def _invitee_counts(session: Session, ids: list[int]) -> dict[int, int]:
    return dict(
        session.execute(
            select(Invitee.meeting_id, func.count())
            .where(Invitee.meeting_id.in_(ids))
            .group_by(Invitee.meeting_id)
        ).all()
    )


def _one(session: Session, meeting: Meeting) -> MeetingOut:
    session.refresh(meeting)
    return _out(session, meeting, _invitee_counts(session, [meeting.id]).get(meeting.id, 0))


def _summary(sheet) -> AttendanceSummary:
    return AttendanceSummary(
        expected=sheet.expected,
        present=len(sheet.present),
        late=sum(1 for _, a in sheet.present if a.status == AttendanceStatus.LATE),
        leave=len(sheet.leave),
        missing=len(sheet.missing),
    )


# ---- endpoints


@list_route(meetings_api, "/meetings", MeetingOut, summary="Meetings in scope, by start time")
def list_meetings(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    branch_id: Annotated[Id | None, Query(description="Only this branch's meetings.")] = None,
    month: Annotated[
        str | None,
        # Years 2000-2999: a month at the calendar's ends (0001-01, 9999-12) has no bounds in UTC.
        Query(
            pattern=r"^2\d{3}-(0[1-9]|1[0-2])$", description="Only meetings starting in this month (YYYY-MM)."
        ),
    ] = None,
    status: Annotated[MeetingStatus | None, Query(description="scheduled or cancelled.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
) -> Page[MeetingOut]:
    stmt = select(Meeting).join(OrgUnit, OrgUnit.id == Meeting.branch_id).where(principal.unit_clause())
    if branch_id is not None:
        stmt = stmt.where(Meeting.branch_id == unit_in_scope(session, principal, branch_id).id)
    if month is not None:
        year, mon = (int(x) for x in month.split("-"))
        start, end = usecases.month_bounds_utc(date(year, mon, 1), _cfg(request))
        stmt = stmt.where(Meeting.starts_at >= start, Meeting.starts_at < end)
    if status is not None:
        stmt = stmt.where(Meeting.status == status)
    stmt = stmt.options(selectinload(Meeting.kinds))
    rows, total = paginate(session, stmt, [Meeting.starts_at, Meeting.id], limit, offset)
    counts = _invitee_counts(session, [m.id for m in rows])
    items = [_out(session, m, counts.get(m.id, 0)) for m in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@meetings_api.get(
    "/meetings/{meeting_id}",
    response_model=MeetingDetail,
    responses=NOT_FOUND,
    summary="One meeting, with its invitee count and attendance summary",
)
def get_meeting(meeting_id: Id, session: SessionDep, principal: PrincipalDep) -> MeetingDetail:
    meeting = _meeting_in_scope(session, principal, meeting_id)
    sheet = attendance_sheet(session, meeting)
    base = _out(session, meeting, sheet.expected)
    return MeetingDetail(**base.model_dump(), attendance=_summary(sheet))


@meetings_api.post(
    "/meetings",
    response_model=MeetingOut,
    status_code=201,
    responses={**WRITE_RESPONSES, **NOT_FOUND},
    summary="Schedule an ad hoc meeting; invitees get the notice through the outbox",
)
def create_meeting(
    body: MeetingIn, request: Request, session: SessionDep, principal: WriterDep
) -> MeetingOut:
    branch = unit_in_scope(session, principal, body.branch_id)
    if branch.kind != UnitKind.BRANCH:
        raise refused(f"unit {branch.id} is a {branch.kind.value}, not a branch", "body", "branch_id")
    now = _now(request)
    if body.starts_at <= now:
        raise refused(strings.TIME_IN_PAST, "body", "starts_at")
    meeting = usecases.create_meeting(
        session,
        branch_id=branch.id,
        types=body.types,
        starts_at=body.starts_at,
        place=body.place,
        topic=body.topic,
        title=body.title,
        group_id=body.group_id,
        now=now,
        cfg=_cfg(request),
    )
    return _one(session, meeting)


def _change(
    session: Session,
    principal: Principal,
    request: Request,
    meeting_id: int,
    usecase: Callable[..., int],
) -> ChangeOut:
    """Run a meeting change as the token (no person's role is asked)."""
    meeting = _meeting_in_scope(session, principal, meeting_id)
    # A refusal (a cancelled meeting: 409; a bad value: 422 naming its field) is answered by the app.
    notified = usecase(session, None, meeting.id, now=_now(request), cfg=_cfg(request), authorised=True)
    return ChangeOut(meeting=_one(session, meeting), notified=notified)


def _change_route(method: Callable[..., Callable], path: str, conflict: str, summary: str) -> Callable:
    return method(
        path,
        response_model=ChangeOut,
        responses={**WRITE_RESPONSES, **NOT_FOUND, 409: {"model": Problem, "description": conflict}},
        summary=summary,
    )


@_change_route(
    meetings_api.patch,
    "/meetings/{meeting_id}",
    "Meeting cancelled",
    "Move a meeting (new time and/or place); invitees are notified",
)
def move_meeting(
    meeting_id: Id, body: MeetingMove, request: Request, session: SessionDep, principal: WriterDep
) -> ChangeOut:
    move = partial(usecases.move_meeting, starts_at=body.starts_at, place=body.place)
    return _change(session, principal, request, meeting_id, move)


@_change_route(
    meetings_api.post,
    "/meetings/{meeting_id}/cancel",
    "Already cancelled",
    "Cancel a meeting with a reason; invitees are notified",
)
def cancel_meeting(
    meeting_id: Id, body: CancelIn, request: Request, session: SessionDep, principal: WriterDep
) -> ChangeOut:
    cancel = partial(usecases.cancel_meeting, reason=body.reason)
    return _change(session, principal, request, meeting_id, cancel)


@meetings_api.get(
    "/meetings/{meeting_id}/attendance",
    response_model=AttendanceOut,
    responses=NOT_FOUND,
    summary="Who signed in, who is on leave, who is missing",
)
def meeting_attendance(meeting_id: Id, session: SessionDep, principal: PrincipalDep) -> AttendanceOut:
    meeting = _meeting_in_scope(session, principal, meeting_id)
    sheet = attendance_sheet(session, meeting)
    return AttendanceOut(
        meeting_id=meeting.id,
        summary=_summary(sheet),
        present=[
            PresentOut(person=PersonRef(id=p.id, name=p.name), status=a.status, method=a.method, at=a.at)
            for p, a in sheet.present
        ],
        leave=[PersonRef(id=p.id, name=p.name) for p in sheet.leave],
        missing=[PersonRef(id=p.id, name=p.name) for p in sheet.missing],
    )
