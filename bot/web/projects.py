"""书记项目 H5 pages: /h5/projects/...

- ``/{id}``: the project as published (公开承诺): the problem, measures, milestones (done, late), expected
  results, leaders and the progress reported so far, with photos; for the unit's members and everyone who
  reviews or leads it (handlers.projects.access.can_view).
- ``/{id}/progress``: the secretary's monthly report, per milestone, with text and photos (the reminder card
  links here); the same use case as the chat command 项目进展.
- ``/{id}/photos/{photo}``: a photo of a progress report, for those who see the project.
- ``/showcase?year=``: the year's 典型项目 (优秀项目 the committee or 组织部 chose), read-only, for anyone signed
  in (handlers.projects.showcase).
- ``/bulletin/{committee}/{2027Q1}``: a committee's confirmed 排位赛 and 进度通报 of the quarter, for its
  leaders, the 组织部 and the members of the units whose projects it ranks (handlers.projects.bulletin).
- ``/rate/{token}``: 群众评议 by the public, through the signed link the committee hands out when it opens
  the window to the public (handlers.projects.rating): no sign-in; one rating per browser, kept by a
  random cookie (RATER_COOKIE). Members rate from chat (评议 #编号 …), as themselves.

Identity is the shared login-free H5 session (bot.web.h5); never the URL or a form field (the public
rating page has no identity: its token names the project, never a person).
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select

from bot.core.errors import Refused
from bot.web.api import Id
from bot.web.h5 import H5Pages, feature_router, photo_response, read_form
from handlers.common import dates
from handlers.projects import access, bulletin, progress, rating, review, showcase, strings
from handlers.projects.config import projects_config
from models import attachments
from models.db import unit_of_work
from models.org import OrgUnit, Person, UnitKind
from models.projects import ProjectProgress, ProjectRating, ProjectStatus, SecretaryProject

PREFIX = review.H5_PREFIX
RATER_COOKIE = "zb_rater"  # the browser's random key for the public rating (one rating per browser)


@feature_router(prefix=PREFIX, context={"ps": strings}, not_member=strings.H5_NOT_MEMBER)
def build_projects_router(h5: H5Pages) -> APIRouter:
    session_factory, clock = h5.session_factory, h5.clock
    router = h5.router()

    def cfg():
        return projects_config(h5.core)

    def visible(session, person, project_id):
        p = access.project(session, project_id)
        if not access.can_view(session, person, p, cfg()):
            raise Refused(strings.H5_NOT_VISIBLE, status=403)
        return p

    # Before /{project_id}: "showcase" and "rate" are no project ids.
    @router.get("/showcase")
    def showcase_page(request: Request, year: int | None = None):
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return h5.identify(request)
            year = year or clock().astimezone(h5.core.tz).year
            return h5.page(
                request,
                "projects/showcase.html",
                title=strings.H5_SHOWCASE_TITLE,
                year=year,
                projects=showcase.cards(session, year),
            )

    @router.get("/bulletin/{committee_id}/{quarter}")
    def bulletin_page(request: Request, committee_id: Id, quarter: str):
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return h5.identify(request)
            committee = session.get(OrgUnit, committee_id)
            today = clock().astimezone(h5.core.tz).date()
            q = bulletin.parse_quarter(quarter, today) if quarter else None
            if committee is None or committee.kind != UnitKind.COMMITTEE or q is None:
                raise Refused(strings.QUARTER_BAD, status=404)
            rows, confirmed = bulletin.quarter_view(session, committee, q, cfg())
            if confirmed is None:
                label = dates.fmt_quarter(q)
                raise Refused(
                    strings.BULLETIN_NONE.format(committee=committee.name, quarter=label), status=404
                )
            if not bulletin.can_read(session, person, committee, [r.unit for r in rows], cfg()):
                raise Refused(strings.BULLETIN_NOT_VISIBLE, status=403)
            return h5.page(
                request,
                "projects/bulletin.html",
                title=strings.H5_BULLETIN_TITLE,
                heading=strings.BULLETIN_TITLE.format(committee=committee.name, quarter=dates.fmt_quarter(q)),
                rows=rows,
                details=bulletin.details(session, committee, q, rows, cfg()),
                confirmed=dates.fmt_full_day(confirmed.confirmed_at.astimezone(h5.core.tz).date()),
            )

    @router.get("/rate/{token}")
    def public_rating(request: Request, token: str):
        with unit_of_work(session_factory) as session:
            now = clock()
            p = rating.public_project(session, h5.secret, token, now=now)
            key = request.cookies.get(RATER_COOKIE, "")
            done = bool(key) and session.scalar(
                select(ProjectRating.id).where(
                    ProjectRating.project_id == p.id, ProjectRating.public_key == key
                )
            )
            resp = h5.page(
                request,
                "projects/rate.html",
                title=strings.H5_RATING_TITLE,
                project=p,
                unit=session.get(OrgUnit, p.unit_id).name,
                milestones=[(m.title, m.done_on is not None) for m in p.milestones],
                open=p.rating_public and rating.is_open(p, now.astimezone(h5.core.tz).date()),
                done=done,
                token=token,
                verdicts=strings.VERDICT_LABELS,
            )
            if not key:
                resp.set_cookie(
                    RATER_COOKIE,
                    secrets.token_urlsafe(24),
                    max_age=400 * 24 * 3600,
                    path=PREFIX,
                    httponly=True,
                    samesite="lax",
                    secure=h5.core.public_base_url.startswith("https://"),
                )
            return resp

    @router.post("/rate/{token}")
    async def public_rate(request: Request, token: str):
        form = await request.form(max_fields=10)
        return await run_in_threadpool(rate_public, request, token, dict(form))

    def rate_public(request: Request, token: str, form: dict):
        key = request.cookies.get(RATER_COOKIE, "")
        if not key:
            raise Refused(strings.H5_RATING_NO_COOKIE, status=422)
        verdict = next((v for v in strings.VERDICT_LABELS if v.value == str(form.get("verdict", ""))), None)
        if verdict is None:
            raise Refused(strings.RATING_USAGE, ("verdict",), status=422)
        with unit_of_work(session_factory) as session:
            row = rating.rate_public(
                session,
                h5.secret,
                token,
                key,
                verdict,
                str(form.get("comment", "")),
                now=clock(),
                cfg=cfg(),
            )
            p = session.get(SecretaryProject, row.project_id)
            text = strings.RATING_SAVED.format(
                id=p.id, title=p.title, verdict=strings.VERDICT_LABELS[verdict]
            )
        return h5.message(request, strings.H5_RATING_TITLE, text, ok=True)

    @router.get("/{project_id}")
    def page(request: Request, project_id: Id):
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return h5.identify(request)
            p = visible(session, person, project_id)
            today = clock().astimezone(h5.core.tz).date()
            milestones = {m.id: m for m in p.milestones}
            reports = session.scalars(
                select(ProjectProgress)
                .where(ProjectProgress.project_id == p.id)
                .order_by(ProjectProgress.reported_at.desc(), ProjectProgress.id.desc())
            ).all()
            history = [
                {
                    "month": dates.fmt_month(r.month),
                    "milestone": milestones[r.milestone_id].title if r.milestone_id in milestones else "",
                    "done": r.done,
                    "text": r.text,
                    "photos": [
                        f"{PREFIX}/{p.id}/photos/{a.id}"
                        for a in attachments.photos_of(session, progress.PHOTO_OWNER, r.id)
                    ],
                }
                for r in reports
            ]
            return h5.page(
                request,
                "projects/project.html",
                title=p.title,
                project=p,
                unit=session.get(OrgUnit, p.unit_id).name,
                secretary=session.get(Person, p.secretary_id).name,
                status=strings.STATUS_LABELS[p.status],
                milestones=[
                    {
                        "seq": m.seq,
                        "due": dates.fmt_full_day(m.due_on),
                        "title": m.title,
                        "state": "done" if m.done_on else ("late" if m.due_on < today else "open"),
                    }
                    for m in p.milestones
                ],
                history=history,
                can_report=p.secretary_id == person.id and p.status == ProjectStatus.ACCEPTED,
            )

    @router.get("/{project_id}/progress")
    def progress_form(request: Request, project_id: Id):
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return h5.identify(request)
            p = access.project(session, project_id)
            if p.secretary_id != person.id:
                raise Refused(strings.NOT_YOUR_PROJECT.format(id=p.id), status=403)
            return h5.page(
                request,
                "projects/progress.html",
                title=p.title,
                project_id=p.id,
                milestones=[(m.seq, m.title, m.done_on is not None) for m in p.milestones],
                photos=[],
                a=attachments,
            )

    @router.post("/{project_id}/progress")
    async def progress_submit(request: Request, project_id: Id):
        payload, uploads = await read_form(request)
        return await run_in_threadpool(save, request, project_id, payload, uploads)

    def save(request: Request, project_id: int, payload: dict, uploads: list[attachments.Upload]):
        seq_text = str(payload.get("milestone", "") or "").strip()
        if seq_text and not seq_text.isdigit():
            raise Refused(strings.H5_BAD_FORM, ("milestone",), status=422)
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return JSONResponse({"error": strings.H5_NEED_LOGIN}, status_code=401)
            try:
                photos = attachments.check_photos(uploads)
            except attachments.PhotoError as exc:
                raise Refused(str(exc), ("photos",), status=422) from None
            _row, answer = progress.report(
                session,
                person,
                project_id,
                str(payload.get("text", "")),
                milestone_seq=int(seq_text) if seq_text else None,
                done=str(payload.get("done", "")).lower() in ("1", "true", "on", "yes"),
                photos=photos,
                now=clock(),
                cfg=cfg(),
            )
        return {"ok": True, "message": answer}

    @router.get("/{project_id}/photos/{photo_id}")
    def photo(request: Request, project_id: Id, photo_id: Id):
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return JSONResponse({"error": strings.H5_NEED_LOGIN}, status_code=401)
            visible(session, person, project_id)
            found = session.get(attachments.Attachment, photo_id)
            row = (
                session.get(ProjectProgress, found.owner_id)
                if found is not None and found.owner_kind == progress.PHOTO_OWNER
                else None
            )
            if row is None or row.project_id != project_id:
                raise Refused(strings.NO_PROJECT.format(id=project_id), status=404)
            return photo_response(found)

    return router
