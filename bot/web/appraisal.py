"""民主评议党员 H5 pages: /h5/appraisal/...

- ``/{id}``: the member's page (opened from the chat card): the 个人自评 form (editable until the close)
  and, for a voter, the ballot (every other member, one of four grades each; final once sent).
- ``/{id}/manage``: the branch's 书记/副书记/组织委员: who has self-assessed and who still has to vote
  (never what anyone voted), the 留党察看 marks before the first ballot, and after the close the count,
  the software's suggestion, the 支委会's proposal and the 支部大会's decision.

Identity is the shared login-free H5 session (bot.web.h5). Plain HTML forms carry the session's CSRF
token as the field csrf_token. A refusal of a form the person filled in re-renders the page with what
they entered and the reason (nothing is written); other refusals reach the app's one handler.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from bot.core.errors import Refused
from bot.web.api.schemas import Id
from bot.web.h5 import H5Pages, feature_router
from handlers.appraisal import grades, service, strings, voting
from handlers.appraisal.config import appraisal_config
from handlers.common.dates import fmt_full_day
from models.appraisal import GRADE_LABELS, GRADE_ORDER, HANDLING_LABELS, Grade
from models.audit import Actor, act_as
from models.db import unit_of_work
from models.org import OrgUnit

PREFIX = service.H5_PREFIX
# What a redirect after a POST says, by key: never text from the URL.
NOTICES = {
    "self": strings.SELF_SAVED,
    "ballot": strings.BALLOT_SAVED,
}  # the manage page's notices are rebuilt from the record (see manage)


@feature_router(prefix=PREFIX, not_member=(strings.TITLE, strings.NOT_BOUND))
def build_appraisal_router(h5: H5Pages) -> APIRouter:
    session_factory, clock, core = h5.session_factory, h5.clock, h5.core
    tz = core.tz
    router = h5.router()

    def cfg():
        return appraisal_config(core)

    def member_page(request, session, person, appraisal_id, *, status=200, problem="", marks=None, notice=""):
        a = service.get_appraisal(session, appraisal_id)
        me = service.membership(session, a, person)
        now = clock()
        start, end = service.window_text(a, tz)
        open_now = a.opens_at <= now < a.closes_at
        others = [(m, p) for m, p in service.members(session, a) if p.id != person.id]
        if me.probationary:
            vote_note = strings.NO_VOTE_PROBATIONARY
        elif me.suspended:
            vote_note = strings.NO_VOTE_SUSPENDED
        elif me.has_voted:
            vote_note = strings.ALREADY_VOTED
        else:
            vote_note = ""
        return h5.page(
            request,
            "appraisal/member.html",
            status_code=status,
            title=strings.CARD_TITLE.format(year=a.year),
            a=a,
            branch=session.get(OrgUnit, a.branch_id),
            viewer=person.name,
            start=start,
            end=end,
            state=service.state_text(a, now, tz),
            open_now=open_now,
            me=me,
            others=others,
            vote_note=vote_note,
            can_vote=open_now and not vote_note,
            grades=GRADE_ORDER,
            labels=GRADE_LABELS,
            field=voting.FIELD,
            marks=marks or {},
            problem=problem,
            notice=notice,
            manager=service.is_manager(session, person.id, a.branch_id, cfg()),
            max_self=cfg().self_assessment_max,
        )

    def manage_page(request, session, person, appraisal_id, *, status=200, problem="", form=None, notice=""):
        a = service.get_appraisal(session, appraisal_id)
        service.require_manager(session, a, person, cfg())
        now = clock()
        start, end = service.window_text(a, tz)
        people = service.members(session, a)
        t = service.turnout_of(people)
        closed = now >= a.closes_at
        count = grades.count(session, a, cfg(), people) if closed else None
        rows = grades.grades_of(session, a)
        any_voted = any(m.has_voted for m, _p in people)
        return h5.page(
            request,
            "appraisal/manage.html",
            status_code=status,
            title=strings.CARD_TITLE.format(year=a.year) + " · " + strings.MANAGE_BUTTON,
            a=a,
            branch=session.get(OrgUnit, a.branch_id),
            start=start,
            end=end,
            state=service.state_text(a, now, tz),
            people=people,
            turnout=t,
            closed=closed,
            count=count,
            counted={r.person_id: r for r in count.members} if count else {},
            rows=rows,
            can_mark=not closed and not any_voted,
            grades=GRADE_ORDER,
            labels=GRADE_LABELS,
            handlings=HANDLING_LABELS,
            unqualified=Grade.UNQUALIFIED,
            form=form or {},
            problem=problem,
            notice=notice,
            low_turnout=strings.LOW_TURNOUT.format(voted=t.voted, voters=t.voters),
            today=service.local_day(now, tz).isoformat(),
            tz=tz,
            s_=strings,
        )

    async def form_of(request: Request) -> dict[str, str]:
        form = await request.form(max_fields=2000)
        return {k: str(v) for k, v in form.items() if k != "csrf_token"}

    def back(path: str, key: str) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/{path}?saved={key}", status_code=303)

    @router.get("/{appraisal_id}")
    def page(request: Request, appraisal_id: Id, saved: str = ""):
        with session_factory() as session:
            person = h5.person(request, session)
            if person is None:
                return h5.identify(request)
            return member_page(request, session, person, appraisal_id, notice=NOTICES.get(saved, ""))

    @router.post("/{appraisal_id}/self")
    async def self_assessment(request: Request, appraisal_id: Id):
        form = await form_of(request)
        try:
            with unit_of_work(session_factory) as session:
                person = h5.person(request, session)
                if person is None:
                    return h5.identify(request)
                service.save_self_assessment(
                    session,
                    person,
                    appraisal_id,
                    form.get("self_assessment", ""),
                    now=clock(),
                    tz=tz,
                    cfg=cfg(),
                )
        except Refused as exc:
            if exc.status != 422:
                raise
            with session_factory() as session:
                person = h5.person(request, session)
                return member_page(request, session, person, appraisal_id, status=422, problem=str(exc))
        return back(str(appraisal_id), "self")

    @router.post("/{appraisal_id}/ballot")
    async def ballot(request: Request, appraisal_id: Id):
        form = await form_of(request)
        try:
            with unit_of_work(session_factory) as session:
                person = h5.person(request, session)
                if person is None:
                    return h5.identify(request)
                voting.cast_ballot(session, person, appraisal_id, form, now=clock(), tz=tz)
        except Refused as exc:
            if exc.status != 422:
                raise
            with session_factory() as session:
                person = h5.person(request, session)
                return member_page(
                    request, session, person, appraisal_id, status=422, problem=str(exc), marks=form
                )
        return back(str(appraisal_id), "ballot")

    @router.get("/{appraisal_id}/manage")
    def manage(request: Request, appraisal_id: Id, saved: str = ""):
        with session_factory() as session:
            person = h5.person(request, session)
            if person is None:
                return h5.identify(request)
            notice = ""
            if saved in ("proposal", "decision"):
                a = service.get_appraisal(session, appraisal_id)
                if saved == "proposal" and a.proposed_on:
                    notice = strings.PROPOSAL_SAVED.format(day=fmt_full_day(a.proposed_on))
                elif saved == "decision" and a.decided_on:
                    notice = strings.DECISION_SAVED.format(day=fmt_full_day(a.decided_on))
            return manage_page(request, session, person, appraisal_id, notice=notice)

    def managed_post(path: str, key: str, act):
        @router.post(f"/{{appraisal_id}}/{path}")
        async def post(request: Request, appraisal_id: Id):
            form = await form_of(request)
            try:
                with unit_of_work(session_factory) as session:
                    person = h5.person(request, session)
                    if person is None:
                        return h5.identify(request)
                    # The pages the chat card opens: their changes are audited as the chat's, by this person.
                    act_as(session, Actor("chat", person.id), clock=clock)
                    act(session, person, appraisal_id, form)
            except Refused as exc:
                if exc.status != 422:
                    raise
                with session_factory() as session:
                    person = h5.person(request, session)
                    return manage_page(
                        request, session, person, appraisal_id, status=422, problem=str(exc), form=form
                    )
            return back(f"{appraisal_id}/manage", key)

        return post

    def mark(session, person, appraisal_id, form):
        try:
            person_id = int(form.get("person_id", ""))
        except ValueError:
            raise Refused(strings.PAGE_NOT_MEMBER, status=422) from None
        service.set_suspended(
            session, person, appraisal_id, person_id, form.get("suspended") == "1", now=clock(), cfg=cfg()
        )

    def propose(session, person, appraisal_id, form):
        grades.record_proposal(session, person, appraisal_id, form, now=clock(), tz=tz, cfg=cfg())

    def decide(session, person, appraisal_id, form):
        grades.record_decision(session, person, appraisal_id, form, now=clock(), tz=tz, cfg=cfg())

    managed_post("suspended", "suspended", mark)
    managed_post("proposal", "proposal", propose)
    managed_post("decision", "decision", decide)
    return router
