"""Meeting types, their required frequency, who is expected, and every tunable number of the feature.

Defaults follow 《中国共产党支部工作条例（试行）》 and the county practice in domain.md §1, §4, §7;
each is a field of MeetingsConfig, built from the settings' meetings section (config/rules.py) by
meetings_config(core), so an organisation can change it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.errors import Refused  # the one refusal; this feature's modules import it from here
from config.rules import MeetingsRules
from config.settings import DEFAULT_TIMEZONE
from handlers.common.roles import people_with_roles, roles_on
from handlers.meetings import strings
from handlers.meetings.activity import ActivityConfig
from models.meetings import AttendanceStatus, MeetingType
from models.org import BRANCH_COMMITTEE_ROLES, OrgUnit, Person, Role, RoleAssignment, UnitKind, committee_of

E = TypeVar("E", bound=enum.Enum)


class Period(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def months(self) -> int:
        """The period's length, as handlers.common.dates.period_bounds takes it."""
        return {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[self]


class RestDayShift(enum.StrEnum):
    """What a fixed-date deadline does when it falls on a rest day of the branch's calendar."""

    KEEP = "keep"  # stays (rule G21's default for the plan: the 25th, inclusive)
    POSTPONE = "postpone"  # 顺延 to the next working day
    ADVANCE = "advance"  # 提前 to the previous working day


class Audience(enum.StrEnum):
    ALL = "all"  # every member of the branch
    COMMITTEE = "committee"  # the 支委 (BRANCH_COMMITTEE_ROLES on the branch)
    GROUP = "group"  # the members of one 党小组


@dataclass(frozen=True)
class TypeRule:
    period: Period
    audience: Audience
    # 支委会 is required only where the branch has a 支委会 (≥ 7 正式党员, 条例 第六章).
    needs_committee: bool = False
    per_group: bool = False


DEFAULT_TYPE_RULES: dict[MeetingType, TypeRule] = {
    MeetingType.PARTY_CONGRESS: TypeRule(Period.QUARTER, Audience.ALL),
    MeetingType.BRANCH_COMMITTEE: TypeRule(Period.MONTH, Audience.COMMITTEE, needs_committee=True),
    MeetingType.GROUP_MEETING: TypeRule(Period.MONTH, Audience.GROUP, per_group=True),
    MeetingType.PARTY_LECTURE: TypeRule(Period.QUARTER, Audience.ALL),
    MeetingType.THEME_DAY: TypeRule(Period.MONTH, Audience.ALL),
    MeetingType.ORG_LIFE: TypeRule(Period.YEAR, Audience.ALL),
    MeetingType.DEMOCRATIC_REVIEW: TypeRule(Period.YEAR, Audience.ALL),
}


@dataclass(frozen=True)
class MeetingsConfig:
    tz: ZoneInfo = ZoneInfo(DEFAULT_TIMEZONE)
    type_rules: dict[MeetingType, TypeRule] = field(default_factory=lambda: dict(DEFAULT_TYPE_RULES))
    # Roles on the branch that may schedule meetings, issue codes, mark 代签, record minutes, confirm 补学.
    manager_roles: frozenset[Role] = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY})
    # Roles on the branch that approve leave (domain rule D11: the 书记, configurable).
    leave_approver_roles: frozenset[Role] = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY})
    # Roles on the committee above that review monthly plans (宿松县: the 组织委员).
    plan_reviewer_roles: frozenset[Role] = frozenset({Role.ORGANIZATION_MEMBER})
    # Roles on the committee above that decide a member's leave or 补学 when nobody on the branch
    # but the member holds an approving role (a secretary's own leave in a branch without 副书记).
    fallback_decider_roles: frozenset[Role] = frozenset({Role.ORGANIZATION_MEMBER})
    # Roles on the committee above told, with the branch's secretaries, of a vote taken without its
    # quorum (handlers/meetings/quorum.py): the meeting has to be held again (补开).
    void_vote_committee_roles: frozenset[Role] = frozenset({Role.ORGANIZATION_MEMBER})
    plan_deadline_day: int = 25  # inclusive, 23:59 local (rule G21)
    # On a rest day (models/workcalendar.py): kept by default (G21); 顺延 stays in the month before.
    plan_deadline_on_rest_day: RestDayShift = RestDayShift.KEEP
    plan_reminder_days: tuple[int, ...] = (20, 24)
    plan_overdue_report_day: int = 26
    reminder_offsets: tuple[timedelta, ...] = (timedelta(days=1), timedelta(hours=2))
    signin_opens_before: timedelta = timedelta(minutes=30)
    signin_closes_after: timedelta = timedelta(minutes=30)
    late_after: timedelta = timedelta(minutes=10)  # a scan later than start + this is 迟到
    qr_refresh_seconds: int = 30
    qr_grace_seconds: int = 15  # a code scanned just as the projector changes it still works
    # How long the code sent in chat (签到码) signs in: a picture forwarded to someone who is not in the
    # room soon stops working; the secretary asks again, or uses the projector page, which refreshes.
    chat_code_valid: timedelta = timedelta(minutes=30)  # asked early: from the opening to the start
    makeup_days: int = 7
    # A 补学 last day on a rest day of the branch's calendar moves to the next working day.
    makeup_due_moves_off_rest_days: bool = True
    minutes_workdays: int = 3  # working days on the branch's calendar (models/workcalendar.py)
    committee_threshold: int = 7  # 正式党员 at which a branch has a 支委会 (条例 第六章)
    # One-tap reasons on the 请假 card (domain §4 rule 50); any other reason can be typed.
    leave_reasons: tuple[str, ...] = ("出差在外", "学习培训", "生病", "家中有事")
    # 党员活动日 (the 主题党日's fixed day) and the 主题党日's menu (handlers/meetings/activity.py).
    activity: ActivityConfig = field(default_factory=ActivityConfig)

    @classmethod
    def from_rules(cls, rules: MeetingsRules, tz: ZoneInfo) -> MeetingsConfig:
        """The runtime config of the settings' meetings section; an unknown type or role is refused."""
        type_rules = dict(DEFAULT_TYPE_RULES)
        for key, frequency in rules.frequencies.items():
            kind = named(MeetingType, key, "ZHIBU_MEETINGS__FREQUENCIES")
            type_rules[kind] = replace(type_rules[kind], period=Period(frequency))
        return cls(
            tz=tz,
            type_rules=type_rules,
            manager_roles=roles_named(rules.manager_roles, "ZHIBU_MEETINGS__MANAGER_ROLES"),
            leave_approver_roles=roles_named(
                rules.leave_approver_roles, "ZHIBU_MEETINGS__LEAVE_APPROVER_ROLES"
            ),
            plan_reviewer_roles=roles_named(rules.plan_reviewer_roles, "ZHIBU_MEETINGS__PLAN_REVIEWER_ROLES"),
            fallback_decider_roles=roles_named(
                rules.fallback_decider_roles, "ZHIBU_MEETINGS__FALLBACK_DECIDER_ROLES"
            ),
            void_vote_committee_roles=roles_named(
                rules.void_vote_committee_roles, "ZHIBU_MEETINGS__VOID_VOTE_COMMITTEE_ROLES"
            ),
            plan_deadline_day=rules.plan_deadline_day,
            plan_deadline_on_rest_day=RestDayShift(rules.plan_deadline_on_rest_day),
            plan_reminder_days=tuple(rules.plan_reminder_days),
            plan_overdue_report_day=rules.plan_overdue_report_day,
            reminder_offsets=tuple(timedelta(minutes=m) for m in rules.reminder_minutes_before),
            signin_opens_before=timedelta(minutes=rules.signin_opens_minutes_before),
            signin_closes_after=timedelta(minutes=rules.signin_closes_minutes_after),
            late_after=timedelta(minutes=rules.late_after_minutes),
            qr_refresh_seconds=rules.qr_refresh_seconds,
            qr_grace_seconds=rules.qr_grace_seconds,
            chat_code_valid=timedelta(minutes=rules.chat_code_valid_minutes),
            makeup_days=rules.makeup_days,
            makeup_due_moves_off_rest_days=rules.makeup_due_moves_off_rest_days,
            minutes_workdays=rules.minutes_workdays,
            committee_threshold=rules.committee_threshold,
            leave_reasons=tuple(rules.leave_reasons),
            activity=ActivityConfig.from_rules(rules.activity_day),
        )


def named(kind: type[E], value: str, setting: str) -> E:
    """The member of `kind` stored as `value`, or a ValueError naming the setting and the known names."""
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise ValueError(f"{setting}: unknown name {value!r} (known: {known})") from None


def roles_named(names: Iterable[str], setting: str) -> frozenset[Role]:
    """Roles by their stored names, as the settings give them ("secretary"); refuses an unknown one."""
    return frozenset(named(Role, name, setting) for name in names)


def _from_core(core: CoreConfig) -> MeetingsConfig:
    return MeetingsConfig.from_rules(core.rules.meetings, core.tz)


def meetings_config(core: CoreConfig) -> MeetingsConfig:
    """The organisation's meeting rules, as the composition root configured them (built once per core)."""
    return core.derive(_from_core)


DEFAULT_CONFIG = MeetingsConfig()


# Present: the one definition (handlers/meetings/signin.py's count_hosts_present says who gets a row).
PRESENT_STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


def type_label(t: MeetingType | str) -> str:
    return strings.TYPE_LABELS[MeetingType(t)]


def types_label(types: Iterable[MeetingType | str]) -> str:
    return "、".join(type_label(t) for t in types)


def parse_type(text: str) -> MeetingType:
    text = text.strip()
    for t, label in strings.TYPE_LABELS.items():
        if text in (label, t.value) or text in strings.TYPE_ALIASES.get(t, ()):
            return t
    raise Refused(strings.UNKNOWN_TYPE.format(text=text, known="、".join(strings.TYPE_LABELS.values())))


def local_day(moment: datetime, cfg: MeetingsConfig) -> date:
    return moment.astimezone(cfg.tz).date()


def require_role(session: Session, actor: Person | None, unit_id: int, roles: frozenset[Role]) -> None:
    """Refuse unless `actor` holds one of `roles` on exactly this unit (never on a neighbour's)."""
    if actor is None:
        raise Refused(strings.NOT_BOUND, status=403)
    if not roles_on(session, actor.id, unit_id) & roles:
        raise Refused(
            strings.NO_ROLE.format(roles="或".join(strings.role_label(r) for r in sorted(roles))), status=403
        )


@dataclass(frozen=True)
class Deciders:
    """Who decides a person's own request (their leave, their 补学), never the person themselves."""

    people: list[int]
    passed_over: bool  # the person holds a deciding role on the branch and was skipped
    from_committee: bool  # nobody else on the branch could: the committee above decides
    subject_excluded: bool  # the person would have been a decider of this request but for the rule


def deciders(
    session: Session, branch_id: int, roles: frozenset[Role], subject_id: int, cfg: MeetingsConfig
) -> Deciders:
    """The holders of `roles` on the branch except the subject; when that leaves nobody, the
    committee's `fallback_decider_roles` (again without the subject). Empty when nobody at all can.

    Nobody approves their own case: a secretary's leave goes to the 副书记, or up to the committee.
    """
    on_branch = set(people_with_roles(session, branch_id, roles))
    others = sorted(on_branch - {subject_id})
    passed_over = subject_id in on_branch
    if others:
        return Deciders(others, passed_over, False, passed_over)
    branch = session.get(OrgUnit, branch_id)
    committee = committee_of(session, branch) if branch is not None else None
    above = set(people_with_roles(session, committee.id, cfg.fallback_decider_roles)) if committee else set()
    return Deciders(sorted(above - {subject_id}), passed_over, True, passed_over or subject_id in above)


def routing_note(session: Session, found: Deciders, *, what: str, verb: str) -> str:
    """What the person is told when their request does not go to the usual deciders ("" when it does)."""
    if not found.people:
        return strings.ROUTED_NOBODY.format(what=what, verb=verb)
    if not (found.passed_over or found.from_committee):
        return ""
    names = "、".join(
        session.scalars(select(Person.name).where(Person.id.in_(found.people)).order_by(Person.id))
    )
    if found.from_committee:
        names = strings.ROUTED_COMMITTEE_PREFIX + names
    if found.passed_over:
        return strings.ROUTED_PASSED_OVER.format(what=what, verb=verb, names=names)
    return strings.ROUTED_TO_COMMITTEE.format(verb=verb, names=names)


def require_decider(
    session: Session,
    actor: Person | None,
    branch_id: int,
    roles: frozenset[Role],
    subject_id: int,
    cfg: MeetingsConfig,
    *,
    own_case: str,
) -> Deciders:
    """Refuse unless `actor` is one of the deciders of `subject_id`'s request; `own_case` is the
    refusal for someone who would decide it were it not their own."""
    if actor is None:
        raise Refused(strings.NOT_BOUND, status=403)
    found = deciders(session, branch_id, roles, subject_id, cfg)
    if actor.id in found.people:
        return found
    if actor.id == subject_id and found.subject_excluded:
        raise Refused(own_case, status=403)
    raise Refused(
        strings.NO_ROLE.format(roles="或".join(strings.role_label(r) for r in sorted(roles))), status=403
    )


@dataclass(frozen=True)
class PendingDecision:
    """A member's request that waits for a decider (a leave, a 补学 report): how to find it and refuse."""

    model: type  # LeaveRequest or MakeupTask: .meeting, .person_id, .status
    missing: str  # the refusal when there is no such request
    own_case: str  # the refusal when the decider would decide their own request
    waiting: enum.Enum  # the status in which it waits
    not_waiting: str  # the refusal once decided, with {status}
    labels: dict  # the statuses' Chinese names


def require_pending_decision(
    session: Session, actor: Person | None, kind: PendingDecision, request_id: int, roles, cfg: MeetingsConfig
):
    """The request and its deciders, if `actor` decides this member's request and it still waits;
    otherwise a refusal (404 no such request, 403 not the actor's to decide, 409 already decided)."""
    request = session.get(kind.model, request_id)
    if request is None:
        raise Refused(kind.missing, status=404)
    found = require_decider(
        session, actor, request.meeting.branch_id, roles, request.person_id, cfg, own_case=kind.own_case
    )
    if request.status != kind.waiting:
        raise Refused(kind.not_waiting.format(status=kind.labels[request.status]), status=409)
    return request, found


def managed_branch(session: Session, actor: Person | None, cfg: MeetingsConfig) -> OrgUnit:
    """The branch `actor` manages meetings for (their own, where they hold a manager role)."""
    if actor is None:
        raise Refused(strings.NOT_BOUND, status=403)
    if actor.branch_id is None:
        raise Refused(strings.NO_BRANCH, status=403)
    require_role(session, actor, actor.branch_id, cfg.manager_roles)
    return session.get(OrgUnit, actor.branch_id)


def expected_person_ids(
    session: Session,
    branch_id: int,
    types: Iterable[MeetingType],
    cfg: MeetingsConfig,
    group_id: int | None = None,
) -> list[int]:
    """Who is expected at an event of these types: the union of each type's audience.

    Members exempt from organisational life (illness, maternity, old age; domain §4 rule 50) and
    inactive people are left out: they are kept informed by a contact person instead.
    """
    active = (
        Person.active.is_(True),
        Person.attendance_exempt_reason.is_(None),
    )
    ids: set[int] = set()
    for t in types:
        audience = cfg.type_rules.get(t, TypeRule(Period.MONTH, Audience.ALL)).audience
        if audience == Audience.ALL:
            stmt = select(Person.id).where(Person.branch_id == branch_id, *active)
        elif audience == Audience.COMMITTEE:
            stmt = (
                select(Person.id)
                .join(RoleAssignment, RoleAssignment.person_id == Person.id)
                .where(
                    RoleAssignment.org_unit_id == branch_id,
                    RoleAssignment.role.in_(BRANCH_COMMITTEE_ROLES),
                    *active,
                )
            )
        else:
            if group_id is None:
                raise Refused(strings.GROUP_REQUIRED, ("group_id",))
            stmt = select(Person.id).where(
                Person.branch_id == branch_id, Person.group_id == group_id, *active
            )
        ids.update(session.scalars(stmt))
    return sorted(ids)


def check_group(session: Session, branch_id: int, group_id: int | None) -> None:
    if group_id is None:
        return
    group = session.get(OrgUnit, group_id)
    if group is None or group.kind != UnitKind.GROUP or group.parent_id != branch_id:
        raise Refused(strings.BAD_GROUP, ("group_id",))
