"""督查/巡查 H5 pages: /h5/inspection/...

- ``/{round}/units/{branch}``: the inspector's (or 交叉互查 checker's) form for one unit of a round: the
  item, fine or a problem, its text, a deadline and photos; the unit's findings so far with their photos.
  The same use case as the console (handlers.inspection.rounds.record_finding): a closed round refuses.
- ``/{round}/photos/{photo}``: a finding's photo, for those who see the unit in the round.

Identity is the shared login-free H5 session (bot.web.h5); never the URL or a form field.
Mounted by the composition root (bot/web/app.py): see /tmp/zb/docs/inspection.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bot.core.errors import Refused
from bot.web.api import Id
from bot.web.h5 import H5Pages, feature_router, photo_response, read_form
from handlers.inspection import draw, rounds, strings
from handlers.inspection.config import inspection_config
from models import attachments
from models.db import unit_of_work
from models.inspection import Finding, InspectionRound
from models.org import OrgUnit

PREFIX = draw.H5_PREFIX
PHOTO_OWNER = "inspection_finding"  # models.attachments owner kind


@feature_router(prefix=PREFIX, context={"ins": strings}, not_member=strings.H5_NOT_MEMBER)
def build_inspection_router(h5: H5Pages) -> APIRouter:
    session_factory, clock = h5.session_factory, h5.clock
    router = h5.router()

    def cfg():
        return inspection_config(h5.core)

    def today():
        return clock().astimezone(h5.core.tz).date()

    def unit_of(session, person, round_id: int, branch_id: int, *, to_record: bool):
        rnd = session.get(InspectionRound, round_id)
        st = rounds.standing(session, person.id, cfg())
        seen = rounds.visible_units(session, st, rnd, today()) if rnd is not None else []
        ru = next((u for u in seen if u.branch_id == branch_id), None)
        if rnd is None or ru is None:
            raise Refused(strings.NO_UNIT, status=404)
        if to_record and not (rounds.is_checker(st, ru) or rounds.is_organiser(session, st, rnd)):
            raise Refused(strings.NOT_INSPECTOR, status=403)
        return rnd, ru, st

    @router.get("/{round_id}/units/{branch_id}")
    def form(request: Request, round_id: Id, branch_id: Id):
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return h5.identify(request)
            rnd, ru, _st = unit_of(session, person, round_id, branch_id, to_record=True)
            branch = session.get(OrgUnit, branch_id)
            findings = [
                {
                    "item": f.item_title,
                    "result": strings.STATUS_OK if f.ok else strings.STATUS_PROBLEM,
                    "text": f.text,
                    "photos": [
                        f"{PREFIX}/{rnd.id}/photos/{a.id}"
                        for a in attachments.photos_of(session, PHOTO_OWNER, f.id)
                    ],
                }
                for f in ru.findings
            ]
            return h5.page(
                request, "inspection/finding.html", title=strings.H5_TITLE, unit=branch.name, round_id=rnd.id,
                round_title=rnd.title, branch_id=branch_id, items=[i.title for i in rounds.items_for(session, rnd, branch)],
                findings=findings, photos=[], a=attachments,
            )  # fmt: skip

    @router.post("/{round_id}/units/{branch_id}")
    async def submit(request: Request, round_id: Id, branch_id: Id):
        payload, uploads = await read_form(request)
        return await run_in_threadpool(save, request, round_id, branch_id, payload, uploads)

    def save(
        request: Request, round_id: int, branch_id: int, payload: dict, uploads: list[attachments.Upload]
    ):
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return JSONResponse({"error": strings.H5_NEED_LOGIN}, status_code=401)
            rnd, ru, st = unit_of(session, person, round_id, branch_id, to_record=True)
            try:
                photos = attachments.check_photos(uploads)
            except attachments.PhotoError as exc:
                raise Refused(str(exc), ("photos",), status=422) from None
            item = str(payload.get("item", "") or "").strip()
            due = str(payload.get("due_on", "") or "").strip()
            finding = rounds.record_finding(
                session, st, rnd, ru, item=item, ok=str(payload.get("result", "")) != "problem",
                text=str(payload.get("text", "") or ""),
                due_on=rounds.parse_day(due) if due else None, now=clock(), today=today(), cfg=cfg(),
            )  # fmt: skip
            try:
                stored = attachments.attach_photos(session, PHOTO_OWNER, finding.id, photos, person.id)
            except attachments.PhotoError as exc:
                raise Refused(str(exc), ("photos",), status=422) from None
            if stored:
                finding.photos = [*finding.photos, *(a.id for a in stored)]
            message = strings.H5_SAVED.format(unit=session.get(OrgUnit, branch_id).name, item=item)
        return {"ok": True, "message": message}

    @router.get("/{round_id}/photos/{photo_id}")
    def photo(request: Request, round_id: Id, photo_id: Id):
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return JSONResponse({"error": strings.H5_NEED_LOGIN}, status_code=401)
            found = session.get(attachments.Attachment, photo_id)
            finding = (
                session.get(Finding, found.owner_id)
                if found is not None and found.owner_kind == PHOTO_OWNER
                else None
            )
            if finding is None or finding.round_unit.round_id != round_id:
                raise Refused(strings.NO_UNIT, status=404)
            unit_of(session, person, round_id, finding.branch_id, to_record=False)
            return photo_response(found)

    return router
