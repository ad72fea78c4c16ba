"""Before the meeting: the secretary's plan (the day, each step's due day) and each person's steps.

A member submits only their own step (学习研讨, 征求意见, 对照检查材料); the 书记, 副书记 or 组织委员 of the branch
(LifeMeetingConfig.manager_roles) sets the plan and marks steps done. 谈心谈话 is never entered here: it is read
from the talks the branch records (handlers.talks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common.dates import fmt_full_day, parse_day
from handlers.common.roles import roles_in_words, roles_on, units_where
from handlers.lifemeeting import strings
from handlers.lifemeeting.config import STEPS, LifeMeetingConfig
from handlers.talks import coverage
from models.lifemeeting import LifeMeetingPlan, LifeMeetingStep, LifeStep
from models.org import OrgUnit, Person, UnitKind

CONTENT_MAX = 5000


def managed_branch(session: Session, actor: Person | None, cfg: LifeMeetingConfig, what: str) -> OrgUnit:
    """The branch the actor manages the 组织生活会 of: their own where they hold a manager role, else the first
    branch where they do (a 书记 sent from another branch)."""
    if actor is None:
        raise Refused(strings.NOT_BOUND, status=403)
    led = units_where(session, actor.id, cfg.manager_roles, kind=UnitKind.BRANCH)
    if not led:
        raise Refused(
            strings.NOT_MANAGER.format(managers=roles_in_words(cfg.manager_roles), what=what), status=403
        )
    return session.get(OrgUnit, actor.branch_id if actor.branch_id in led else min(led))


def branch_people(session: Session, branch_id: int) -> dict[int, str]:
    """The branch's people as 谈心谈话 counts them (its active members and 支委): who owes each step."""
    names, _committee = coverage.branch_people(session, [branch_id])
    return names.get(branch_id, {})


def person_named(people: dict[int, str], name: str) -> int:
    """The one person of `people` with this name: 404 when none, 422 when several share it."""
    found = [pid for pid, n in people.items() if n == name]
    if not found:
        raise Refused(strings.NOT_FOUND.format(name=name), status=404)
    if len(found) > 1:
        raise Refused(strings.AMBIGUOUS.format(n=len(found), name=name), status=422)
    return found[0]


def plan_of(session: Session, branch_id: int, year: int) -> LifeMeetingPlan | None:
    return session.scalar(
        select(LifeMeetingPlan).where(LifeMeetingPlan.branch_id == branch_id, LifeMeetingPlan.year == year)
    )


def set_plan(
    session: Session, actor: Person | None, args: str, *, now: datetime, today: date, cfg: LifeMeetingConfig
) -> LifeMeetingPlan:
    """「组织生活会计划 12月20日 [学习研讨 11月30日 …]」: the planned day, and any step's due day instead of
    its default (LifeMeetingConfig.days_before). Setting it again replaces the year's plan."""
    branch = managed_branch(session, actor, cfg, strings.WHAT_PLAN)
    words = args.split()
    if not words:
        raise Refused(strings.PLAN_USAGE, status=422)
    day = parse_day(words[0], today, short="next")
    if day is None:
        raise Refused(strings.BAD_DAY.format(text=words[0]), status=422)
    if day < today:
        raise Refused(strings.PAST_DAY.format(day=fmt_full_day(day)), status=422)
    dues = {step: day - timedelta(days=cfg.default_due(step)) for step in STEPS}
    rest = words[1:]
    if len(rest) % 2:
        raise Refused(strings.PLAN_USAGE, status=422)
    for word, when in zip(rest[::2], rest[1::2], strict=True):
        step = strings.STEP_BY_WORD.get(word)
        if step is None:
            raise Refused(strings.UNKNOWN_STEP.format(text=word), status=422)
        due = parse_day(when, today, short="next")
        if due is None:
            raise Refused(strings.BAD_DAY.format(text=when), status=422)
        if due > day:
            raise Refused(
                strings.DUE_AFTER_MEETING.format(
                    step=strings.STEP_LABELS[step], due=fmt_full_day(due), day=fmt_full_day(day)
                ),
                status=422,
            )
        dues[step] = due
    plan = plan_of(session, branch.id, day.year)
    if plan is None:
        plan = LifeMeetingPlan(branch_id=branch.id, year=day.year)
        session.add(plan)
    plan.planned_on = day
    for step, due in dues.items():
        setattr(plan, f"{step}_due", due)
    plan.set_by_id, plan.set_at = actor.id, now
    session.flush()
    return plan


@dataclass(frozen=True)
class Submitted:
    step: str
    plan: LifeMeetingPlan
    again: bool


def submit_step(
    session: Session, actor: Person | None, step: str, content: str, *, now: datetime, today: date
) -> Submitted:
    """A person's own step: their 对照检查材料 (required text), or a note that they took part in the study or
    gathered opinions. Only their own row is ever written; once the secretary has marked it done it stays."""
    if actor is None:
        raise Refused(strings.NOT_BOUND, status=403)
    if actor.branch_id is None:
        raise Refused(strings.NO_BRANCH, status=403)
    content = content.strip()
    if step == LifeStep.MATERIALS and not content:
        raise Refused(strings.MATERIALS_EMPTY, status=422)
    if len(content) > CONTENT_MAX:
        raise Refused(strings.CONTENT_TOO_LONG.format(n=CONTENT_MAX), status=422)
    plan = plan_of(session, actor.branch_id, today.year)
    if plan is None:
        raise Refused(strings.NO_PLAN.format(year=today.year), status=404)
    if actor.id not in branch_people(session, actor.branch_id):
        raise Refused(strings.NOT_IN_BRANCH, status=403)
    row = _step_row(session, plan.id, actor.id, step)
    if row is not None and row.done_at is not None:
        raise Refused(strings.ALREADY_DONE.format(step=strings.STEP_LABELS[step]), status=409)
    again = row is not None and row.submitted_at is not None
    if row is None:
        row = LifeMeetingStep(plan_id=plan.id, person_id=actor.id, step=LifeStep(step))
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # the same message twice at once: the other is the row
            row = _step_row(session, plan.id, actor.id, step)
    row.content, row.submitted_at = content or None, now
    return Submitted(step, plan, again)


def _step_row(session: Session, plan_id: int, person_id: int, step: str) -> LifeMeetingStep | None:
    return session.scalar(
        select(LifeMeetingStep).where(
            LifeMeetingStep.plan_id == plan_id,
            LifeMeetingStep.person_id == person_id,
            LifeMeetingStep.step == LifeStep(step),
        )
    )


@dataclass(frozen=True)
class Marked:
    step: str
    marked: list[str]
    already: list[str]
    unsubmitted: list[str]


def mark_done(
    session: Session, actor: Person | None, args: str, *, now: datetime, today: date, cfg: LifeMeetingConfig
) -> Marked:
    """「标记完成 学习研讨 张三 李四」 or 「… 全体」: the secretary confirms people's step done (a member who did
    the study without reporting it is marked all the same; the reply says so)."""
    branch = managed_branch(session, actor, cfg, strings.WHAT_MARK)
    words = [w for w in re.split(r"[\s、，,]+", args.strip()) if w]
    if len(words) < 2:
        raise Refused(strings.MARK_USAGE, status=422)
    step = strings.STEP_BY_WORD.get(words[0])
    if step is None:
        raise Refused(strings.UNKNOWN_STEP.format(text=words[0]), status=422)
    if step == "talks":
        raise Refused(strings.TALKS_DERIVED, status=422)
    plan = plan_of(session, branch.id, today.year)
    if plan is None:
        raise Refused(strings.NO_PLAN_MANAGER.format(year=today.year), status=404)
    people = branch_people(session, branch.id)
    if len(words) == 2 and words[1] in strings.MARK_ALL:
        chosen = sorted(people)
    else:
        chosen = list(dict.fromkeys(person_named(people, name) for name in words[1:]))
    rows = {
        row.person_id: row
        for row in session.scalars(
            select(LifeMeetingStep).where(
                LifeMeetingStep.plan_id == plan.id, LifeMeetingStep.step == LifeStep(step)
            )
        )
    }
    marked, already, unsubmitted = [], [], []
    for pid in chosen:
        row = rows.get(pid)
        if row is None:
            row = LifeMeetingStep(plan_id=plan.id, person_id=pid, step=LifeStep(step))
            session.add(row)
        if row.done_at is not None:
            already.append(people[pid])
            continue
        if row.submitted_at is None:
            unsubmitted.append(people[pid])
        row.done_at, row.done_by_id = now, actor.id
        marked.append(people[pid])
    session.flush()
    return Marked(step, marked, already, unsubmitted)


def is_manager_of(session: Session, actor: Person, branch_id: int, cfg: LifeMeetingConfig) -> bool:
    return bool(roles_on(session, actor.id, branch_id) & cfg.manager_roles)
