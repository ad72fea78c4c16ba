"""Monthly plans (宿松县's closed loop): submit next month's plan, the committee reviews it, approved
items become scheduled meetings; secretaries who have not submitted are reminded.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, CardUpdate, Text, md_escape
from handlers.common.dates import add_months, month_start
from handlers.common.roles import (
    committee_of,
    committees_of,
    people_with_roles,
    people_with_roles_by_unit,
    roles_on,
)
from handlers.meetings import activity, strings
from handlers.meetings.meetings import _clean, create_meeting, validate_types
from handlers.meetings.types import (
    MeetingsConfig,
    Period,
    Refused,
    RestDayShift,
    check_group,
    local_day,
    managed_branch,
    types_label,
)
from models.meetings import (
    Meeting,
    MeetingKind,
    MeetingStatus,
    MeetingType,
    MonthlyPlan,
    PlanItem,
    PlanStatus,
)
from models.org import BRANCH_COMMITTEE_ROLES, MemberStatus, OrgUnit, Person, Role, UnitKind
from models.workcalendar import NATIONAL, CalendarBook, WorkCalendar, calendar_for_unit

ACTION_APPROVE = "plans.approve"
ACTION_RETURN = "plans.return"


@dataclass(frozen=True)
class PlanItemInput:
    types: Sequence[MeetingType | str]
    starts_at: datetime
    place: str
    topic: str
    group_id: int | None = None


def plan_month_for(now: datetime, cfg: MeetingsConfig) -> date:
    """The month a plan written today is for: next month."""
    return add_months(local_day(now, cfg), 1)


def plan_deadline(month: date, cfg: MeetingsConfig, cal: WorkCalendar = NATIONAL) -> datetime:
    """23:59:59 local on the deadline day of the month before `month` (inclusive, rule G21).

    The day is `plan_deadline_day`; on a rest day of the branch's calendar (`cal`) it stays (the
    default), or moves to the next working day, never past the month's end, or to the previous one.
    """
    prev = add_months(month, -1)
    day = prev.replace(day=min(cfg.plan_deadline_day, calendar.monthrange(prev.year, prev.month)[1]))
    if not cal.is_working_day(day):
        if cfg.plan_deadline_on_rest_day == RestDayShift.POSTPONE:
            day = min(cal.next_working_day(day), month - timedelta(days=1))
        elif cfg.plan_deadline_on_rest_day == RestDayShift.ADVANCE:
            day = cal.previous_working_day(day)
    return datetime.combine(day, time(23, 59, 59), tzinfo=cfg.tz)


def plan_on_time(plan: MonthlyPlan, cfg: MeetingsConfig, cal: WorkCalendar = NATIONAL) -> bool:
    return plan.submitted_at is not None and plan.submitted_at <= plan_deadline(plan.month, cfg, cal)


class PlanMissesRequired(Refused):
    """The plan leaves out a meeting the month requires. The 条例 says 一般每月 (as a rule, not
    without exception), so the secretary may submit anyway once told; the committee sees the gap."""

    confirmable = True

    def __init__(self, message: str) -> None:
        super().__init__(message, status=409)


def has_committee(session: Session, branch_id: int, cfg: MeetingsConfig) -> bool:
    """A branch has a 支委会 with 7 正式党员 (条例 第六章) or once it has 委员 besides its 书记/副书记,
    as the monthly score reads it (handlers/monthly/scoring.py)."""
    others = BRANCH_COMMITTEE_ROLES - {Role.SECRETARY, Role.DEPUTY_SECRETARY}
    if people_with_roles(session, branch_id, others):
        return True
    full = session.scalar(
        select(func.count())
        .select_from(Person)
        .where(Person.branch_id == branch_id, Person.active.is_(True), Person.status == MemberStatus.FULL)
    )
    return full >= cfg.committee_threshold


def required_meetings(
    session: Session, branch: OrgUnit, month: date, cfg: MeetingsConfig
) -> dict[MeetingType, int]:
    """What `month` requires of the branch, from the meeting types' frequencies (cfg.type_rules):
    every monthly type (支委会 only with a 支委会; 党小组会 once per 党小组), and a quarterly one in
    the quarter's last month when none of it is scheduled earlier in the quarter."""
    groups = session.scalar(
        select(func.count())
        .select_from(OrgUnit)
        .where(OrgUnit.parent_id == branch.id, OrgUnit.kind == UnitKind.GROUP, OrgUnit.active.is_(True))
    )
    committee = has_committee(session, branch.id, cfg)
    quarter_start = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    earlier = set()
    if month != quarter_start and month.month % 3 == 0:
        lo = datetime.combine(quarter_start, time.min, tzinfo=cfg.tz)
        hi = datetime.combine(month, time.min, tzinfo=cfg.tz)
        earlier = set(
            session.scalars(
                select(MeetingKind.type)
                .join(Meeting, Meeting.id == MeetingKind.meeting_id)
                .where(
                    Meeting.branch_id == branch.id,
                    Meeting.status == MeetingStatus.SCHEDULED,
                    Meeting.starts_at >= lo,
                    Meeting.starts_at < hi,
                )
            )
        )
    out: dict[MeetingType, int] = {}
    for t, rule in cfg.type_rules.items():
        if rule.needs_committee and not committee:
            continue
        if rule.period == Period.QUARTER and (month.month % 3 != 0 or t in earlier):
            continue
        if rule.period not in (Period.MONTH, Period.QUARTER):
            continue
        n = groups if rule.per_group else 1
        if n:
            out[t] = n
    return out


def missing_meetings(required: dict[MeetingType, int], items: Sequence[PlanItem]) -> dict[MeetingType, int]:
    """How many of each required meeting the items leave out (党小组会: distinct groups)."""
    planned: dict[MeetingType, set] = defaultdict(set)
    for n, item in enumerate(items):
        for t in item.types:
            key = item.group_id if MeetingType(t) == MeetingType.GROUP_MEETING else n
            planned[MeetingType(t)].add(key)
    return {t: n - len(planned[t]) for t, n in required.items() if len(planned[t]) < n}


def meetings_text(counts: dict[MeetingType, int]) -> str:
    return "、".join(
        strings.PLAN_REQUIRED_ITEM.format(type=strings.TYPE_LABELS[t], n=n) for t, n in counts.items()
    )


def required_text(session: Session, branch: OrgUnit, month: date, cfg: MeetingsConfig) -> str:
    """The plan card's and the form's line on what the month requires, and its 党员活动日."""
    required = required_meetings(session, branch, month, cfg)
    text = ""
    if required:
        text = strings.PLAN_REQUIRED.format(month=strings.fmt_month(month), items=meetings_text(required))
    fixed = activity.month_line(month, cfg.activity, calendar_for_unit(session, branch), this_month=False)
    return text + (f"{fixed}。" if fixed else "")


def activity_day_of(session: Session, branch: OrgUnit, month: date, cfg: MeetingsConfig) -> date | None:
    """The month's 党员活动日 on the branch's calendar (the plan form proposes it for a 主题党日)."""
    found = activity.activity_day(month, cfg.activity, calendar_for_unit(session, branch))
    return found.day if found else None


def activity_day_line(session: Session, branch: OrgUnit, month: date, cfg: MeetingsConfig) -> str:
    """本月党员活动日：12月25日（星期五） for `month` (the current one) on the branch's calendar; "" without one."""
    return activity.month_line(month, cfg.activity, calendar_for_unit(session, branch))


def plan_day_notes(session: Session, plan: MonthlyPlan, cfg: MeetingsConfig) -> list[str]:
    """The plan's 主题党日 set on another day than the 党员活动日, one sentence each (the confirmation)."""
    cal = calendar_for_unit(session, plan.branch_id)
    notes = []
    for item in sorted(plan.items, key=lambda i: i.starts_at):
        if MeetingType.THEME_DAY in item.types:
            note = activity.plan_item_sentence(local_day(item.starts_at, cfg), cfg.activity, cal)
            if note and note not in notes:
                notes.append(note)
    return notes


def get_plan(session: Session, branch_id: int, month: date) -> MonthlyPlan | None:
    return session.scalars(
        select(MonthlyPlan).where(MonthlyPlan.branch_id == branch_id, MonthlyPlan.month == month)
    ).first()


def save_plan(
    session: Session,
    actor: Person | None,
    *,
    month: date,
    items: Sequence[PlanItemInput],
    now: datetime,
    cfg: MeetingsConfig,
    submit: bool = True,
    confirm_missing: bool = False,
) -> MonthlyPlan:
    """Replace the branch's plan for `month` with `items` and (by default) submit it for review.

    A plan that leaves out a required meeting (required_meetings) is refused with PlanMissesRequired
    until the secretary confirms (`confirm_missing`); the reviewer's card then names the gap."""
    branch = managed_branch(session, actor, cfg)
    month = month_start(month)
    if month <= month_start(local_day(now, cfg)):
        raise Refused(strings.PLAN_MONTH_PASSED.format(month=strings.fmt_month(month)))
    plan = get_plan(session, branch.id, month)
    if plan is not None and plan.status == PlanStatus.APPROVED:
        raise Refused(strings.PLAN_ALREADY_APPROVED.format(month=strings.fmt_month(month)))
    if not items:
        raise Refused(strings.PLAN_EMPTY)
    checked = []
    for item in items:
        types = validate_types(item.types)
        day = local_day(item.starts_at, cfg)
        if month_start(day) != month:
            raise Refused(
                strings.PLAN_ITEM_OUTSIDE.format(day=strings.fmt_day(day), month=strings.fmt_month(month))
            )
        check_group(session, branch.id, item.group_id)
        if MeetingType.GROUP_MEETING in types and item.group_id is None:
            raise Refused(strings.GROUP_REQUIRED, ("group_id",))
        checked.append(
            PlanItem(
                types=[t.value for t in types],
                starts_at=item.starts_at,
                place=_clean(item.place, "place", strings.FIELD_PLACE),
                topic=_clean(item.topic, "topic", strings.FIELD_TOPIC),
                group_id=item.group_id,
            )
        )
    missing = missing_meetings(required_meetings(session, branch, month, cfg), checked)
    if missing and submit and not confirm_missing:
        raise PlanMissesRequired(
            strings.PLAN_MISSING_CONFIRM.format(month=strings.fmt_month(month), items=meetings_text(missing))
        )
    if plan is None:
        plan = MonthlyPlan(branch_id=branch.id, month=month, status=PlanStatus.DRAFT)
        session.add(plan)
    plan.items = checked
    plan.status = PlanStatus.DRAFT
    session.flush()
    if submit:
        submit_plan(session, plan, actor, now=now, cfg=cfg)
    return plan


def submit_plan(
    session: Session, plan: MonthlyPlan, actor: Person, *, now: datetime, cfg: MeetingsConfig
) -> int:
    if not plan.items:
        raise Refused(strings.PLAN_EMPTY)
    plan.status = PlanStatus.SUBMITTED
    plan.revision += 1
    plan.submitted_at = now
    plan.submitted_by_id = actor.id
    plan.return_reason = None
    session.flush()
    branch = session.get(OrgUnit, plan.branch_id)
    committee = committee_of(session, branch)
    if committee is None:
        return 0
    reviewers = _reviewers(session, plan, committee.id, cfg)
    missing = missing_meetings(required_meetings(session, branch, plan.month, cfg), plan.items)
    return outbox.enqueue_to_people(
        session,
        reviewers,
        review_card(plan, branch, cfg, calendar_for_unit(session, branch), missing=missing),
        dedup_key=_review_key(plan),
        now=now,
    )


def _own_plan(session: Session, plan: MonthlyPlan, person_id: int, cfg: MeetingsConfig) -> bool:
    """A committee 组织委员 who also runs the branch (or submitted the plan) would review their own work."""
    return person_id == plan.submitted_by_id or person_id in people_with_roles(
        session, plan.branch_id, cfg.manager_roles
    )


def _reviewers(session: Session, plan: MonthlyPlan, committee_id: int, cfg: MeetingsConfig) -> list[int]:
    own = {plan.submitted_by_id, *people_with_roles(session, plan.branch_id, cfg.manager_roles)}
    return [
        pid for pid in people_with_roles(session, committee_id, cfg.plan_reviewer_roles) if pid not in own
    ]


def _review_key(plan: MonthlyPlan) -> str:
    return f"plan:{plan.id}:r{plan.revision}"


def review_card(
    plan: MonthlyPlan,
    branch: OrgUnit,
    cfg: MeetingsConfig,
    cal: WorkCalendar = NATIONAL,
    *,
    missing: dict[MeetingType, int] | None = None,
) -> Card:
    lines = "\n".join(
        strings.PLAN_LINE.format(
            when=strings.fmt_when(i.starts_at, cfg.tz),
            types=types_label(i.types)
            + (
                activity.plan_item_note(local_day(i.starts_at, cfg), cfg.activity, cal)
                if MeetingType.THEME_DAY in i.types
                else ""
            ),
            place=md_escape(i.place),
            topic=md_escape(i.topic),
        )
        for i in plan.items
    )
    month = strings.fmt_month(plan.month)
    text = strings.PLAN_REVIEW_TEXT.format(
        id=plan.id,
        branch=md_escape(branch.name),
        month=month,
        revision=plan.revision,
        count=len(plan.items),
        items=lines,
    )
    if missing:
        text += "\n\n" + strings.PLAN_REVIEW_MISSING.format(items=meetings_text(missing))
    if not plan_on_time(plan, cfg, cal):
        text += strings.PLAN_LATE_NOTE.format(day=plan_deadline(plan.month, cfg, cal).day)
    params = {"plan": str(plan.id), "revision": str(plan.revision)}
    return Card(
        title=strings.PLAN_REVIEW_TITLE.format(branch=branch.name, month=month),
        text=text,
        buttons=(
            Button(strings.PLAN_APPROVE, action=ACTION_APPROVE, params=params),
            Button(strings.PLAN_RETURN, action=ACTION_RETURN, params=params),
        ),
        card_key=_review_key(plan),
    )


def review_plan(
    session: Session,
    actor: Person | None,
    plan_id: int,
    *,
    approve: bool,
    now: datetime,
    cfg: MeetingsConfig,
    reason: str = "",
) -> MonthlyPlan:
    """备案 (meetings are scheduled and announced) or 退回 with a reason; the secretary is told."""
    plan = session.get(MonthlyPlan, plan_id)
    if plan is None:
        raise Refused(strings.PLAN_NOT_SUBMITTED)
    branch = session.get(OrgUnit, plan.branch_id)
    committee = committee_of(session, branch)
    if actor is None:
        raise Refused(strings.NOT_BOUND)
    if committee is None or not roles_on(session, actor.id, committee.id) & set(cfg.plan_reviewer_roles):
        raise Refused(
            strings.NO_REVIEW_ROLE.format(
                roles="或".join(strings.role_label(r) for r in cfg.plan_reviewer_roles)
            )
        )
    if _own_plan(session, plan, actor.id, cfg):
        raise Refused(strings.PLAN_SELF_REVIEW)
    if plan.status != PlanStatus.SUBMITTED:
        raise Refused(strings.PLAN_NOT_SUBMITTED)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise Refused(strings.PLAN_RETURN_REASON)
    if approve:
        # Everything that could refuse is checked before the first write (the roster may have changed
        # since the plan was saved), so a refusal leaves the plan and its meetings untouched.
        for item in plan.items:
            types = validate_types(item.types)
            check_group(session, branch.id, item.group_id)
            if MeetingType.GROUP_MEETING in types and item.group_id is None:
                raise Refused(strings.GROUP_REQUIRED, ("group_id",))
    month = strings.fmt_month(plan.month)
    plan.reviewed_at = now
    plan.reviewed_by_id = actor.id
    secretaries = people_with_roles(session, branch.id, cfg.manager_roles)
    if approve:
        plan.status = PlanStatus.APPROVED
        for item in plan.items:
            if item.meeting_id is None:
                meeting = create_meeting(
                    session,
                    branch_id=branch.id,
                    types=item.types,
                    starts_at=item.starts_at,
                    place=item.place,
                    topic=item.topic,
                    group_id=item.group_id,
                    created_by_id=plan.submitted_by_id,
                    now=now,
                    cfg=cfg,
                )
                item.meeting_id = meeting.id
        told = Text(strings.PLAN_APPROVED_TEXT.format(month=month, count=len(plan.items)))
        decision = strings.PLAN_APPROVE
    else:
        plan.status = PlanStatus.RETURNED
        plan.return_reason = reason[:500]
        told = Text(strings.PLAN_RETURNED_TEXT.format(month=month, reason=plan.return_reason))
        decision = strings.PLAN_RETURN
    session.flush()
    outbox.enqueue_to_people(
        session, secretaries, told, dedup_key=f"plan:{plan.id}:r{plan.revision}:decided", now=now
    )
    reviewers = _reviewers(session, plan, committee.id, cfg)
    title = strings.PLAN_REVIEWED_CARD.format(decision=decision, branch=branch.name, month=month)
    outbox.enqueue_to_people(
        session,
        reviewers,
        CardUpdate(card_key=_review_key(plan), title=title, text=md_escape(title), status_label=title),
        dedup_key=f"plan:{plan.id}:r{plan.revision}:card",
        now=now,
    )
    return plan


def branches_without_plan(session: Session, month: date, *, committee_id: int | None = None) -> list[OrgUnit]:
    """Active branches with no submitted or approved plan for `month` (one query)."""
    done = select(MonthlyPlan.branch_id).where(
        MonthlyPlan.month == month, MonthlyPlan.status.in_([PlanStatus.SUBMITTED, PlanStatus.APPROVED])
    )
    stmt = select(OrgUnit).where(
        OrgUnit.kind == UnitKind.BRANCH, OrgUnit.active.is_(True), OrgUnit.id.not_in(done)
    )
    if committee_id is not None:
        stmt = stmt.where(OrgUnit.path.like(f"%/{committee_id}/%"))
    return list(session.scalars(stmt.order_by(OrgUnit.path)))


def remind_missing_plans(session: Session, *, now: datetime, cfg: MeetingsConfig) -> int:
    """To each branch's secretary whose plan for next month is not in (the scheduler runs it on the 20th and 24th)."""
    month = plan_month_for(now, cfg)
    today = local_day(now, cfg)
    missing = branches_without_plan(session, month)
    managers = people_with_roles_by_unit(session, (b.id for b in missing), cfg.manager_roles)
    calendars = CalendarBook(session)
    sent = 0
    for branch in missing:
        deadline = plan_deadline(month, cfg, calendars.for_unit(branch))
        sent += outbox.enqueue_to_people(
            session,
            managers.get(branch.id, []),
            Card(
                title=strings.PLAN_REMINDER_TITLE,
                text=strings.PLAN_REMINDER_TEXT.format(
                    branch=md_escape(branch.name), month=strings.fmt_month(month), day=deadline.day
                ),
            ),
            dedup_key=f"plan:{branch.id}:{month:%Y-%m}:remind:{today:%d}",
            now=now,
        )
    return sent


def report_missing_plans(session: Session, *, now: datetime, cfg: MeetingsConfig) -> int:
    """After the deadline: one list per committee to its reviewers (the scheduler runs it on the 26th,
    and daily to the month's end when deadlines on a rest day are postponed).

    A branch is listed once its own deadline (its calendar) has passed; branches whose deadline was
    postponed make a list of their own, so each list is sent once.
    """
    month = plan_month_for(now, cfg)
    missing = branches_without_plan(session, month)
    committees = committees_of(session, missing)
    calendars = CalendarBook(session)
    plain = plan_deadline(month, cfg)
    by_committee: dict[tuple[int, datetime], list[OrgUnit]] = {}
    for branch in missing:
        deadline = plan_deadline(month, cfg, calendars.for_unit(branch))
        if branch.id in committees and now > deadline:
            by_committee.setdefault((committees[branch.id].id, deadline), []).append(branch)
    reviewers = people_with_roles_by_unit(session, {c for c, _ in by_committee}, cfg.plan_reviewer_roles)
    sent = 0
    for (committee_id, deadline), branches in by_committee.items():
        key = f"plan:committee:{committee_id}:{month:%Y-%m}:overdue"
        sent += outbox.enqueue_to_people(
            session,
            reviewers.get(committee_id, []),
            Card(
                title=strings.PLAN_OVERDUE_TITLE,
                text=strings.PLAN_OVERDUE_TEXT.format(
                    day=deadline.day,
                    month=strings.fmt_month(month),
                    branches="\n".join(f"- {md_escape(b.name)}" for b in branches),
                ),
            ),
            dedup_key=key if deadline == plain else f"{key}:{deadline:%d}",
            now=now,
        )
    return sent
