"""H5 pages of the meetings feature: QR sign-in, the projector page, the QR image, and the plan,
meeting and minutes forms. All under /h5/meetings.

Wiring (the app factory)::

    from bot.web.meetings import build_meetings_router
    app.include_router(build_meetings_router(session_factory, app.state.identities, clock=clock))

- ``session_factory``, ``identities``, ``core``, ``dingtalk_jsapi_url``, ``clock``: as for
  bot.web.h5.H5Pages (core defaults to the settings'; the JSAPI to DingTalk's own, or the sandbox's
  /_sandbox/dd-shim.js when the DingTalk adapter points at a loopback server).
- ``cfg``: handlers.meetings.types.MeetingsConfig (default: meetings_config(core), the configured rules).

Identity never comes from the QR or a form field: the pages use the shared H5 session (bot.web.h5),
whose exchange endpoints are mounted here too, at /h5/meetings/session and /h5/meetings/auth/wecom.
Errors for machines are 4xx with a reason; people see Chinese pages.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import qrcode
from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.context import CoreConfig
from bot.web.api import MAX_ID, Id
from bot.web.h5 import (  # noqa: F401 - COOKIE … default_jsapi_url: re-exported for older importers
    COOKIE,
    DINGTALK_JSAPI,
    SESSION_PURPOSE,
    SESSION_TTL,
    H5Pages,
    default_jsapi_url,
    photo_response,
    read_form,
)
from handlers.meetings import activity, quorum, strings
from handlers.meetings import signin as signin_uc
from handlers.meetings.meetings import get_managed_meeting, invitee_ids, schedule_meeting, signin_window
from handlers.meetings.minutes import MinutesInput, menu_form_context, minutes_headcount, record_minutes
from handlers.meetings.minutes import minutes_photo as photo_for
from handlers.meetings.plans import (
    PlanItemInput,
    activity_day_line,
    activity_day_of,
    get_plan,
    plan_day_notes,
    plan_month_for,
    required_text,
    save_plan,
)
from handlers.meetings.types import MeetingsConfig, Refused, local_day, managed_branch, meetings_config
from models import attachments
from models.base import utcnow
from models.db import one_writer, unit_of_work
from models.meetings import Meeting, MeetingType, Minutes, VoteKind
from models.org import OrgUnit, Person, UnitKind

PREFIX = signin_uc.H5_PREFIX


class _Body(BaseModel):
    """A meeting page's POST body: typed by pydantic; unknown keys are ignored, a wrong type is a
    Chinese 400 (parse_body), never a 500 or FastAPI's English 422 the page could not show."""

    model_config = ConfigDict(extra="ignore")


BodyT = TypeVar("BodyT", bound=_Body)


class SigninBody(_Body):
    t: str = ""  # the token the QR carried


class ItemBody(_Body):
    types: list[str] = []
    starts_at: str = ""  # datetime-local, read in the configured zone (Refused with BAD_TIME if not)
    place: str = ""
    topic: str = ""
    group_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @field_validator("group_id", mode="before")
    @classmethod
    def _no_group(cls, value: Any) -> Any:
        # The form's "无" option sends "" (older pages "0").
        return None if value in ("", "0", 0) else value


class PlanBody(_Body):
    month: str = ""  # YYYY-MM
    items: list[ItemBody] = []
    confirm_missing: bool = False  # the secretary confirmed a plan without a required meeting


class MeetingBody(ItemBody):
    title: str = ""


class MinutesBody(_Body):
    """The minutes form's text fields; the vote fields are read by quorum.vote_from_form, which
    answers each bad count in Chinese."""

    chair: str = ""
    recorder: str = ""
    topics: str = ""
    decisions: str = ""


def _path_id(text: str) -> int:
    """A record id from the path: ASCII digits, 1 to MAX_ID (the typed routes' bound); otherwise a 422
    whose detail is the Chinese reason the page shows."""
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID:
        return int(text)
    raise HTTPException(422, detail=strings.H5_BAD_REQUEST)


def parse_body(model: type[BodyT], payload: Any) -> BodyT:
    try:
        return model.model_validate(payload if isinstance(payload, dict) else {})
    except ValidationError as exc:
        fields = tuple(str(e["loc"][0]) for e in exc.errors() if e["loc"])
        raise Refused(strings.H5_BAD_REQUEST, fields[:1]) from None


def qr_png(data: str) -> bytes:
    img = qrcode.make(data, box_size=10, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def build_meetings_router(
    session_factory: sessionmaker[Session],
    identities: Mapping[str, Any],
    core: CoreConfig | None = None,
    *,
    cfg: MeetingsConfig | None = None,
    dingtalk_jsapi_url: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> APIRouter:
    h5 = H5Pages(
        session_factory, identities, core, prefix=PREFIX, dingtalk_jsapi_url=dingtalk_jsapi_url, clock=clock
    )
    core = h5.core
    router = h5.router()
    secret = core.secret_key
    session_person, page, message_page = h5.person, h5.page, h5.message

    def config() -> MeetingsConfig:
        return cfg or meetings_config(core)

    # ---- sign-in

    @router.get("/{meeting_id}/signin")
    def signin_page(request: Request, meeting_id: Id, t: str = ""):
        # The meeting's title only for someone the platform has identified: a QR code or a guessed id
        # tells a stranger nothing about the branch's meetings.
        with unit_of_work(session_factory) as session:
            meeting = session.get(Meeting, meeting_id) if session_person(request, session) else None
            title = meeting.title if meeting else ""
        return page(
            request,
            "meetings/signin.html",
            meeting_id=meeting_id,
            token=t,
            meeting_title=title,
            need_app=strings.SIGNIN_NEED_APP,
        )

    async def signin_post(request: Request) -> JSONResponse:
        # The busiest request there is (a whole branch scans within a minute), so a plain Starlette
        # route: FastAPI's dependency solving, body validation and response encoding cost more than the
        # sign-in's own work (issue 22, bench/signin.py). It therefore runs the router's guard itself,
        # first, and checks the id and the body itself, answering in Chinese (a 422, a 400).
        await h5.guard(request)
        meeting_id = _path_id(request.path_params["meeting_id"])
        try:
            payload = await request.json()
        except ValueError:  # not JSON at all (a wrong shape is parse_body's to answer)
            raise Refused(strings.H5_BAD_REQUEST) from None
        body = parse_body(SigninBody, payload)
        # The session's person id, not their row: the use case reads person and meeting only when the
        # one-statement sign-in did not write.
        person_id = h5.session_person_id(request)
        if person_id is None:
            return JSONResponse({"error": "need_identity"}, status_code=401)
        return await run_in_threadpool(record_scan, meeting_id, body.t, person_id, clock())

    def record_scan(meeting_id: int, token: str, person_id: int, now: datetime) -> JSONResponse:
        c = config()
        # SQLite: behind the process's other busy writers, not colliding with them (models.db.one_writer).
        # PostgreSQL takes them all at once: each member writes their own rows, and a limit measured slower.
        with one_writer(session_factory), unit_of_work(session_factory) as session:
            result = signin_uc.sign_in(
                session, meeting_id=meeting_id, token=token, person=person_id, now=now, cfg=c, secret=secret
            )
            if result is None:  # a session whose person was deleted since: no identity, nothing written
                return JSONResponse({"error": "need_identity"}, status_code=401)
            title, text = signin_uc.outcome_page(result, c)
        return JSONResponse(
            {"outcome": result.outcome.value, "ok": result.signed_in, "title": title, "message": text}
        )

    router.add_route(
        router.prefix + "/{meeting_id}/signin", signin_post, methods=["POST"], include_in_schema=False
    )

    @router.get("/{meeting_id}/qr.png")
    def qr_image(meeting_id: Id, t: str = ""):
        # Only ever draws a sign-in link for a token we signed for this meeting: not an open QR generator.
        outcome = signin_uc.check_token(secret, t, meeting_id, clock(), grace=timedelta(days=3650))
        if outcome != signin_uc.SigninOutcome.OK:
            return JSONResponse({"error": f"bad token: {outcome.value}"}, status_code=404)
        png = qr_png(signin_uc.signin_url(core.public_base_url, meeting_id, t))
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    def _projector_ok(meeting_id: int, k: str) -> bool:
        return (
            signin_uc.check_token(
                secret, k, meeting_id, clock(), grace=timedelta(0), purpose=signin_uc.PROJECTOR
            )
            == signin_uc.SigninOutcome.OK
        )

    @router.get("/{meeting_id}/projector")
    def projector(request: Request, meeting_id: Id, k: str = ""):
        if not _projector_ok(meeting_id, k):
            title, text = strings.SIGNIN_PAGE[signin_uc.SigninOutcome.EXPIRED]
            return message_page(request, title, text, status=403)
        c = config()
        with unit_of_work(session_factory) as session:
            meeting = session.get(Meeting, meeting_id)
            opens, closes = signin_window(meeting, c)
            info = {
                "meeting_title": meeting.title,
                "when": strings.fmt_when(meeting.starts_at, c.tz),
                "place": meeting.place,
            }
        return page(
            request,
            "meetings/projector.html",
            meeting_id=meeting_id,
            key=k,
            refresh=c.qr_refresh_seconds,
            **info,
        )

    @router.get("/{meeting_id}/projector/state")
    def projector_state(meeting_id: Id, k: str = ""):
        if not _projector_ok(meeting_id, k):
            return JSONResponse({"error": "projector link expired or invalid"}, status_code=403)
        now, c = clock(), config()
        with unit_of_work(session_factory) as session:
            meeting = session.get(Meeting, meeting_id)
            token = signin_uc.projector_token(secret, meeting, now, c)
            present, expected = signin_uc.attendance_counts(session, meeting_id)
        return {
            "token": token,
            "qr": f"{PREFIX}/{meeting_id}/qr.png?t={quote(token)}",
            "url": signin_uc.signin_url(core.public_base_url, meeting_id, token),
            "present": present,
            "expected": expected,
            "count_text": strings.PROJECTOR_COUNT.format(present=present, expected=expected),
            "refresh": c.qr_refresh_seconds,
        }

    # ---- forms (secretary)

    def form_page(request: Request, name: str, build: Callable[[Session, Person], dict]):
        with unit_of_work(session_factory) as session:
            person = session_person(request, session)
            if person is None:
                return h5.identify(request)
            context = build(session, person)
        return page(request, f"meetings/{name}", **context)

    def form_post(request: Request, action: Callable[[Session, Person], str]):
        # A refusal leaves the block by raising: the unit of work rolls back and the app answers it.
        with unit_of_work(session_factory) as session:
            person = session_person(request, session)
            if person is None:
                return JSONResponse({"error": strings.NEED_LOGIN}, status_code=401)
            message = action(session, person)
        return {"ok": True, "message": message}

    def _groups(session: Session, branch_id: int) -> list[OrgUnit]:
        return list(
            session.scalars(
                select(OrgUnit)
                .where(OrgUnit.parent_id == branch_id, OrgUnit.kind == UnitKind.GROUP)
                .order_by(OrgUnit.id)
            )
        )

    def _types():
        return [(t.value, strings.TYPE_LABELS[t]) for t in MeetingType]

    def _local(value: str) -> datetime:
        try:
            return datetime.fromisoformat(str(value)).replace(tzinfo=config().tz)
        except ValueError:
            raise Refused(strings.BAD_TIME) from None

    @router.get("/plan")
    def plan_form(request: Request, month: str = ""):
        def build(session: Session, person: Person) -> dict:
            c = config()
            branch = managed_branch(session, person, c)
            target = plan_month_for(clock(), c)
            plan = get_plan(session, branch.id, target)
            items = [
                {
                    "types": list(i.types),
                    "starts_at": i.starts_at.astimezone(c.tz).strftime("%Y-%m-%dT%H:%M"),
                    "place": i.place,
                    "topic": i.topic,
                    "group_id": i.group_id or "",
                }
                for i in (plan.items if plan else [])
            ]
            return {
                "branch": branch.name,
                "month": f"{target:%Y-%m}",
                "month_label": strings.fmt_month(target),
                "status": strings.PLAN_STATUS_LABELS[plan.status]
                if plan
                else strings.PLAN_STATUS_LABELS["draft"],
                "return_reason": plan.return_reason if plan else "",
                "items": items,
                "types": _types(),
                "groups": [(g.id, g.name) for g in _groups(session, branch.id)],
                "required": required_text(session, branch, target, c),
                "activity_day": f"{day:%Y-%m-%d}"
                if (day := activity_day_of(session, branch, target, c))
                else "",
            }

        return form_page(request, "plan.html", build)

    @router.post("/plan")
    def plan_submit(request: Request, payload: Any = Body(...)):
        def action(session: Session, person: Person) -> str:
            c = config()
            body = parse_body(PlanBody, payload)
            try:
                year, mon = (int(x) for x in body.month.split("-"))
                month = datetime(year, mon, 1).date()
            except ValueError:
                raise Refused(strings.BAD_TIME) from None
            items = [
                PlanItemInput(
                    types=r.types,
                    starts_at=_local(r.starts_at),
                    place=r.place,
                    topic=r.topic,
                    group_id=r.group_id,
                )
                for r in body.items
            ]
            plan = save_plan(
                session,
                person,
                month=month,
                items=items,
                now=clock(),
                cfg=c,
                confirm_missing=body.confirm_missing,
            )
            # A 主题党日 planned off the 党员活动日 is allowed; the confirmation says so, as the reviewer's card does.
            notes = "".join(f"{note}。" for note in plan_day_notes(session, plan, c))
            return strings.PLAN_SUBMITTED_REPLY.format(month=strings.fmt_month(plan.month)) + notes

        return form_post(request, action)

    @router.get("/new")
    def meeting_form(request: Request):
        def build(session: Session, person: Person) -> dict:
            c = config()
            branch = managed_branch(session, person, c)
            # This month's 党员活动日, as the 安排会议 card says; a 主题党日 without a time is proposed it.
            month = local_day(clock(), c).replace(day=1)
            day = activity_day_of(session, branch, month, c)
            return {
                "branch": branch.name,
                "types": _types(),
                "groups": [(g.id, g.name) for g in _groups(session, branch.id)],
                "activity_line": activity_day_line(session, branch, month, c),
                "activity_day": f"{day:%Y-%m-%d}" if day and day >= local_day(clock(), c) else "",
            }

        return form_page(request, "meeting_form.html", build)

    @router.post("/new")
    def meeting_submit(request: Request, payload: Any = Body(...)):
        def action(session: Session, person: Person) -> str:
            body = parse_body(MeetingBody, payload)
            m = schedule_meeting(
                session,
                person,
                types=body.types,
                starts_at=_local(body.starts_at),
                place=body.place,
                topic=body.topic,
                title=body.title,
                group_id=body.group_id,
                now=clock(),
                cfg=config(),
            )
            count = len(invitee_ids(session, m.id))
            return strings.MEETING_CREATED_REPLY.format(title=m.title, count=count)

        return form_post(request, action)

    def _vote_context(
        session: Session, meeting: Meeting, sheet, existing: Minutes | None, hosts: Collection[int]
    ) -> dict:
        """应到/实到 (正式/预备), the deciding body's quorum and pass thresholds, the vote as recorded, and
        the 补开 state, for the minutes form (handlers/meetings/quorum.py). `hosts`: the 主持人 and 记录人
        as the form names them, counted present as saving will count them."""
        c = config()
        head = minutes_headcount(session, meeting, sheet, hosts=hosts)
        body = quorum.deciding_body(meeting.types)
        context: dict[str, Any] = {
            "headcount": strings.HEADCOUNT_TEXT.format(
                expected=head.expected,
                ef=head.expected_full,
                ep=head.expected_probationary,
                present=head.present,
                pf=head.present_full,
                pp=head.present_probationary,
            ),  # fmt: skip
            "body": body.value if body else "",
            "reconvene": "",
            "vote": {
                "held": bool(existing and existing.vote_held),
                "kind": (existing.vote_kind if existing and existing.vote_kind else VoteKind.DECISION).value,
                "votes_for": existing.votes_for if existing and existing.votes_for is not None else "",
                "written": existing.written_votes if existing and existing.written_votes else "",
            },
        }
        if body is not None:
            decision = quorum.thresholds(head, body)
            verdict = {True: strings.QUORUM_MET, False: strings.QUORUM_NOT_MET}
            template = strings.QUORUM_CONGRESS if body == quorum.Body.CONGRESS else strings.QUORUM_COMMITTEE
            context["decision"] = {
                "text": template.format(
                    base=decision.base,
                    present=decision.present,
                    needed=decision.quorum_needed,
                    verdict=verdict[decision.quorum_met],
                ),  # fmt: skip
                "met": decision.quorum_met,
                "base": decision.base,
                "pass_needed": decision.pass_needed or 0,
                "pass_rule": strings.PASS_RULE.format(needed=decision.pass_needed)
                if decision.pass_needed
                else "",
            }
            if body == quorum.Body.CONGRESS:
                election = quorum.thresholds(head, body, VoteKind.ELECTION)
                context["election"] = {
                    "text": strings.QUORUM_ELECTION.format(
                        needed=election.quorum_needed, verdict=verdict[election.quorum_met]
                    ),
                    "met": election.quorum_met,
                }
        if existing is not None and existing.needs_reconvene:
            later = session.get(Meeting, existing.reconvened_by_id) if existing.reconvened_by_id else None
            context["reconvene"] = (
                strings.MINUTES_RECONVENED.format(
                    when=strings.fmt_when(later.starts_at, c.tz), title=later.title
                )
                if later
                else strings.MINUTES_RECONVENE_PENDING
            )
            context["reconvene_pending"] = later is None
        return context

    @router.get("/{meeting_id}/minutes")
    def minutes_form(request: Request, meeting_id: Id):
        def build(session: Session, person: Person) -> dict:
            c = config()
            meeting = get_managed_meeting(session, person, meeting_id, c)
            sheet = signin_uc.attendance_sheet(session, meeting)
            existing = meeting.minutes
            chair = existing.chair if existing else person.name
            recorder = existing.recorder if existing else ""
            hosts = signin_uc.meeting_hosts(session, meeting, chair=chair, recorder=recorder)
            return {
                "meeting_id": meeting.id,
                "meeting_title": meeting.title,
                "when": strings.fmt_when(meeting.starts_at, c.tz),
                "place": meeting.place,
                "attendance": signin_uc.attendance_text(sheet),
                **_vote_context(session, meeting, sheet, existing, hosts),
                "chair": chair,
                "recorder": recorder,
                "topics": existing.topics if existing else meeting.topic,
                "decisions": existing.decisions if existing else "",
                **menu_form_context(meeting, c),
                "photos": [
                    f"{PREFIX}/{meeting.id}/minutes/photos/{p.id}"
                    for p in (
                        attachments.photos_of(session, attachments.MINUTES, existing.id) if existing else []
                    )
                ],
                "a": attachments,
            }

        return form_page(request, "minutes.html", build)

    @router.get("/{meeting_id}/minutes/headcount")
    def minutes_headcount_now(request: Request, meeting_id: Id, chair: str = "", recorder: str = ""):
        """The form's counts again as the 主持人/记录人 are typed: they count as present once saved."""
        with unit_of_work(session_factory) as session:
            person = session_person(request, session)
            if person is None:
                return JSONResponse({"error": strings.NEED_LOGIN}, status_code=401)
            meeting = get_managed_meeting(session, person, meeting_id, config())
            hosts = signin_uc.meeting_hosts(session, meeting, chair=chair[:50], recorder=recorder[:50])
            sheet = signin_uc.attendance_sheet(session, meeting)
            context = _vote_context(session, meeting, sheet, meeting.minutes, hosts)
        return {k: context.get(k) for k in ("headcount", "decision", "election")}

    @router.post("/{meeting_id}/minutes")
    async def minutes_submit(request: Request, meeting_id: Id):
        # Multipart when photos are attached, JSON otherwise (bot.web.h5.read_form).
        payload, uploads = await read_form(request)

        def action(session: Session, person: Person) -> str:
            try:
                photos = attachments.check_photos(uploads)
            except attachments.PhotoError as exc:
                raise Refused(str(exc)) from None
            body = parse_body(MinutesBody, payload)
            data = MinutesInput(
                chair=body.chair,
                recorder=body.recorder,
                topics=body.topics,
                decisions=body.decisions,
                vote=quorum.vote_from_form(payload),
                menu=activity.menu_from_form(payload),
            )
            saved = record_minutes(
                session, person, meeting_id, data, now=clock(), cfg=config(), photos=photos
            )
            if saved.needs_reconvene:
                return strings.MINUTES_SAVED_RECONVENE.format(
                    title=saved.meeting.title, void=strings.VOTE_VOID
                )
            message = strings.MINUTES_SAVED.format(title=saved.meeting.title)
            if MeetingType.ORG_LIFE in saved.meeting.types:
                message += strings.MINUTES_ORG_LIFE_HINT
            return message

        return await run_in_threadpool(form_post, request, action)

    @router.get("/{meeting_id}/minutes/photos/{photo_id}")
    def minutes_photo(request: Request, meeting_id: Id, photo_id: Id):
        """A photo of the minutes: for the branch's members and those who manage its meetings."""
        with unit_of_work(session_factory) as session:
            person = session_person(request, session)
            if person is None:
                return JSONResponse({"error": "need_identity"}, status_code=401)
            photo = photo_for(session, person, meeting_id, photo_id, config())
            return photo_response(photo)

    return router
