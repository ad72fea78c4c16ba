"""组织生活纪实台账 (#17 item 1): a branch's meetings over a period, each with its attendance by name,
leave, 补学, minutes, vote, photos and observers, and each month's plan beside what was held.

The counts are the console's (handlers.console.overview.branches_meetings, the one query behind the
总览's meetings list too, itself the monthly score's definition of held and counted), so a ledger and
the 总览 never disagree; they and the names
behind them are read for the whole period and a batch of branches at once: a constant number of
statements whatever the number of months, branches or meetings. A branch's page is the batch of one,
so the county's file is the branch pages' rows. Nothing here writes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from handlers.console import overview
from handlers.console.scope import Scope
from handlers.ledgers.period import LedgerPeriod
from handlers.meetings import activity
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.strings import (
    LEAVE_STATUS_LABELS,
    MAKEUP_STATUS_LABELS,
    PLAN_STATUS_LABELS,
    TYPE_LABELS,
)
from handlers.meetings.types import MeetingsConfig
from handlers.observers.strings import OUTCOME_LABELS
from models import attachments
from models.meetings import (
    Attendance,
    AttendanceStatus,
    Invitee,
    LeaveRequest,
    MakeupOrigin,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MonthlyPlan,
    PlanItem,
    VoteKind,
)
from models.meetings import Minutes as MinutesRow
from models.observers import Observation
from models.org import MEMBER_STATUS_LABELS, MemberStatus, OrgUnit, Person, UnitKind

PRESENT = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
MAKEUP_ORIGIN_LABELS = {MakeupOrigin.LEAVE: "请假", MakeupOrigin.ABSENCE: "缺席"}
VOTE_KIND_LABELS = {VoteKind.DECISION: "表决", VoteKind.ELECTION: "选举"}


def type_names(types: list[str]) -> str:
    return "、".join(TYPE_LABELS.get(t, t) for t in types)  # type: ignore[call-overload]


class NotABranch(ValueError):
    """The meetings ledger is a branch's; a committee's page lists its branches instead."""


@dataclass
class Leave:
    name: str
    reason: str
    status: str  # 已批准 / 待审批 / 未批准


@dataclass
class Makeup:
    name: str
    origin: str  # 请假 / 缺席
    due_on: date
    status: str  # 待补学 / 待确认 / 已完成 / 已退回
    done: bool
    note: str


@dataclass
class ObserverVisit:
    observer: str
    grade: str
    total: int
    max_total: int
    outcome: str
    comment: str
    on_time: bool


@dataclass
class MeetingEntry:
    line: overview.MeetingLine  # the console's figures for it (counts, held, present/attendance…)
    place: str
    topic: str
    cancel_reason: str | None
    minutes: MinutesRow | None
    expected: list[str] = field(default_factory=list)  # 应到: invited or recorded
    present_full: list[str] = field(default_factory=list)
    present_probationary: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    on_leave: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    not_recorded: list[str] = field(default_factory=list)  # invited, no row yet
    member_kind: dict[str, str] = field(default_factory=dict)  # name → 正式 / 预备
    leaves: list[Leave] = field(default_factory=list)
    makeups: list[Makeup] = field(default_factory=list)
    photos: list[int] = field(default_factory=list)  # attachment ids
    observers: list[ObserverVisit] = field(default_factory=list)

    @property
    def types_text(self) -> str:
        return type_names(self.line.types)

    @property
    def present(self) -> list[str]:
        return self.present_full + self.present_probationary

    @property
    def menu_text(self) -> str:
        """A 主题党日's fixed items done and its 自选动作 (the 4+X / 7+X menu), as its minutes recorded them;
        "" for any other meeting, or one recorded before the menu existed."""
        mi = self.minutes
        return (
            activity.done_text(mi.menu_done, mi.menu_extra)
            if mi is not None and mi.menu_done is not None
            else ""
        )

    @property
    def vote_text(self) -> str:
        mi = self.minutes
        if mi is None or not mi.vote_held:
            return ""
        kind = VOTE_KIND_LABELS.get(mi.vote_kind, "表决") if mi.vote_kind else "表决"
        parts = [f"{kind}：应有表决权 {mi.voting_base or 0} 人，到会 {mi.voting_present or 0} 人"]
        if mi.votes_for is not None:
            parts.append(f"赞成 {mi.votes_for} 票")
        if mi.written_votes:
            parts.append(f"书面表决 {mi.written_votes} 票")
        parts.append("达到法定人数" if mi.quorum_met else "未达到法定人数，决定无效")
        if mi.vote_passed is not None:
            parts.append("通过" if mi.vote_passed else "未通过")
        return "，".join(parts)

    @property
    def status_text(self) -> str:
        ln = self.line
        if ln.status == "cancelled":
            return "已取消"
        if not ln.counts:
            return "责令重开，不计入"
        if ln.held:
            return "已开"
        if not ln.minutes_due:  # counts, not held, minutes not due: it has not started yet
            return "尚未召开"
        return "记录逾期，不计为已开"


@dataclass
class PlanLine:
    starts_at: datetime
    types: list[str]
    place: str
    topic: str
    meeting_id: int | None  # the meeting held for it, if linked

    @property
    def types_text(self) -> str:
        return type_names(self.types)


@dataclass
class MonthBlock:
    month: date
    plan_status: str | None  # None: no plan
    plan_submitted_at: datetime | None
    plan: list[PlanLine]
    meetings: list[MeetingEntry]

    @property
    def held(self) -> int:
        return sum(m.line.held for m in self.meetings)


@dataclass
class MeetingsLedger:
    branch: OrgUnit
    period: LedgerPeriod
    months: list[MonthBlock]

    @property
    def meetings(self) -> list[MeetingEntry]:
        return [m for b in self.months for m in b.meetings]

    @property
    def held(self) -> int:
        return sum(b.held for b in self.months)


def meetings_ledger(
    session: Session,
    scope: Scope,
    branch: OrgUnit,
    period: LedgerPeriod,
    *,
    now: datetime,
    cfg: MeetingsConfig,
    current_month: date,
) -> MeetingsLedger:
    """A branch's page and file: the batch of one (so the page and the county's file are one build)."""
    if not scope.sees_unit(branch):
        raise overview.NotInScope(branch.id)
    if branch.kind != UnitKind.BRANCH:
        raise NotABranch(branch.id)
    return _ledgers(session, [branch], period, now=now, cfg=cfg, current_month=current_month)[0]


def branches_in(session: Session, scope: Scope, unit: OrgUnit | None) -> list[tuple[int, str]]:
    """The active branches at or under `unit` (None: anywhere) that the scope sees (id, name), in the
    tree's order: what a committee's, the county's or the whole scope's ledger covers."""
    if unit is not None and not scope.sees_unit(unit):
        raise overview.NotInScope(unit.id)
    under = OrgUnit.path.startswith(unit.path) if unit is not None else true()
    return [
        (bid, name)
        for bid, name in session.execute(
            select(OrgUnit.id, OrgUnit.name)
            .where(
                OrgUnit.kind == UnitKind.BRANCH,
                OrgUnit.active.is_(True),
                under,
                # The whole scope's file covers what its requester leads (exports.top_paths), not the
                # branches they only observe.
                scope.unit_clause(editable=unit is None),
            )
            .order_by(OrgUnit.path)
        )
    ]


BATCH = 100  # branches whose ledgers are read together: ~15 statements a batch, ~60k rows at most


def units_meetings_ledgers(
    session: Session,
    scope: Scope,
    branch_ids: Iterable[int],
    period: LedgerPeriod,
    *,
    now: datetime,
    cfg: MeetingsConfig,
    current_month: date,
    batch: int = BATCH,
) -> Iterator[MeetingsLedger]:
    """Each branch's ledger in turn (the order of `branch_ids`), read BATCH branches at a time by the
    page's own build, so a county costs a constant number of statements per batch rather than a
    branch page's per branch; the session is emptied after each batch so the county's rows never
    accumulate in it. Branches the scope does not see, and units that are not branches, are skipped."""
    ids = list(branch_ids)
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        found = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(chunk)))}
        branches = [
            u
            for u in (found.get(b) for b in chunk)
            if u is not None and u.kind == UnitKind.BRANCH and scope.sees_unit(u)
        ]
        if branches:
            yield from _ledgers(session, branches, period, now=now, cfg=cfg, current_month=current_month)
        session.expunge_all()


def _ledgers(
    session: Session,
    branches: list[OrgUnit],
    period: LedgerPeriod,
    *,
    now: datetime,
    cfg: MeetingsConfig,
    current_month: date,
) -> list[MeetingsLedger]:
    """The ledgers of branches already checked against the scope: a constant number of statements
    whatever the number of branches, months or meetings."""
    months = period.month_list(until=current_month)
    ledgers = {
        b.id: MeetingsLedger(b, period, [MonthBlock(m, None, None, [], []) for m in months]) for b in branches
    }
    if not months:
        return list(ledgers.values())
    starts = [month_bounds_utc(m, cfg)[0] for m in months]
    his = [month_bounds_utc(m, cfg)[1] for m in months]
    entries: dict[int, MeetingEntry] = {}
    for branch_id, ln in overview.branches_meetings(
        session, list(ledgers), starts[0], his[-1], now=now, cfg=cfg
    ):
        i = bisect_right(starts, ln.starts_at) - 1
        if i < 0 or ln.starts_at >= his[i]:
            continue  # between months of a period that skips some (never, for the periods there are)
        entry = MeetingEntry(ln, "", "", None, None)
        entries[ln.id] = entry
        ledgers[branch_id].months[i].meetings.append(entry)
    _plans(session, ledgers, months)
    if entries:
        _details(session, entries)
    return list(ledgers.values())


def _plans(session: Session, ledgers: dict[int, MeetingsLedger], months: list[date]) -> None:
    """Each branch's monthly plans and their items over the months: two statements for all of them."""
    block = {(bid, b.month): b for bid, ledger in ledgers.items() for b in ledger.months}
    plans = session.execute(
        select(MonthlyPlan.id, MonthlyPlan.branch_id, MonthlyPlan.month, MonthlyPlan.status, MonthlyPlan.submitted_at)
        .where(
            MonthlyPlan.branch_id.in_(list(ledgers)),
            MonthlyPlan.month >= months[0],
            MonthlyPlan.month <= months[-1],
        )
    ).all()  # fmt: skip
    plan_month = {}
    for pid, bid, month, status, submitted in plans:
        b = block.get((bid, month))
        if b is not None:
            b.plan_status = PLAN_STATUS_LABELS.get(status, str(status))
            b.plan_submitted_at = submitted
            plan_month[pid] = b
    if plan_month:
        for pid, starts, types, place, topic, mid in session.execute(
            select(
                PlanItem.plan_id, PlanItem.starts_at, PlanItem.types, PlanItem.place, PlanItem.topic,
                PlanItem.meeting_id,
            )
            .where(PlanItem.plan_id.in_(list(plan_month)))
            .order_by(PlanItem.starts_at, PlanItem.id)
        ):  # fmt: skip
            plan_month[pid].plan.append(PlanLine(starts, list(types or []), place, topic, mid))


def _details(session: Session, entries: dict[int, MeetingEntry]) -> None:
    """Every meeting's people, leave, 补学, minutes, photos and observers: one statement each."""
    ids = list(entries)
    for mid, place, topic, reason in session.execute(
        select(Meeting.id, Meeting.place, Meeting.topic, Meeting.cancel_reason).where(Meeting.id.in_(ids))
    ):
        e = entries[mid]
        e.place, e.topic, e.cancel_reason = place, topic, reason
    for mi in session.scalars(select(MinutesRow).where(MinutesRow.meeting_id.in_(ids))):
        entries[mi.meeting_id].minutes = mi

    rows: dict[int, dict[int, tuple[str, str, str | None]]] = defaultdict(dict)
    for mid, pid, name, member_status, status in session.execute(
        select(Attendance.meeting_id, Person.id, Person.name, Person.status, Attendance.status)
        .join(Person, Person.id == Attendance.person_id)
        .where(Attendance.meeting_id.in_(ids))
        .order_by(Person.name, Person.id)
    ):
        rows[mid][pid] = (
            name,
            getattr(member_status, "value", member_status),
            getattr(status, "value", status),
        )
    invited: dict[int, dict[int, tuple[str, str, None]]] = defaultdict(dict)
    for mid, pid, name, member_status in session.execute(
        select(Invitee.meeting_id, Person.id, Person.name, Person.status)
        .join(Person, Person.id == Invitee.person_id)
        .where(Invitee.meeting_id.in_(ids))
        .order_by(Person.name, Person.id)
    ):
        invited[mid][pid] = (name, getattr(member_status, "value", member_status), None)
    for mid, e in entries.items():
        people = {**invited[mid], **rows[mid]}
        for _pid, (name, member_status, status) in sorted(people.items(), key=lambda kv: (kv[1][0], kv[0])):
            e.expected.append(name)
            e.member_kind[name] = MEMBER_STATUS_LABELS.get(member_status, "")
            if status in PRESENT:
                if member_status == MemberStatus.PROBATIONARY:
                    e.present_probationary.append(name)
                else:
                    e.present_full.append(name)
                if status == AttendanceStatus.LATE:
                    e.late.append(name)
            elif status == AttendanceStatus.LEAVE:
                e.on_leave.append(name)
            elif status == AttendanceStatus.ABSENT:
                e.absent.append(name)
            else:
                e.not_recorded.append(name)

    for mid, name, reason, status in session.execute(
        select(LeaveRequest.meeting_id, Person.name, LeaveRequest.reason, LeaveRequest.status)
        .join(Person, Person.id == LeaveRequest.person_id)
        .where(LeaveRequest.meeting_id.in_(ids))
        .order_by(LeaveRequest.requested_at, LeaveRequest.id)
    ):
        entries[mid].leaves.append(Leave(name, reason, LEAVE_STATUS_LABELS.get(status, str(status))))
    for mid, name, origin, due, status, note in session.execute(
        select(
            MakeupTask.meeting_id, Person.name, MakeupTask.origin, MakeupTask.due_on, MakeupTask.status,
            MakeupTask.note,
        )
        .join(Person, Person.id == MakeupTask.person_id)
        .where(MakeupTask.meeting_id.in_(ids))
        .order_by(Person.name, MakeupTask.id)
    ):  # fmt: skip
        entries[mid].makeups.append(
            Makeup(name, MAKEUP_ORIGIN_LABELS.get(origin, str(origin)), due,
                   MAKEUP_STATUS_LABELS.get(status, str(status)), status == MakeupStatus.CONFIRMED, note or "")
        )  # fmt: skip
    minutes_of = {e.minutes.id: mid for mid, e in entries.items() if e.minutes is not None}
    if minutes_of:
        for aid, owner in session.execute(
            select(attachments.Attachment.id, attachments.Attachment.owner_id)
            .where(
                attachments.Attachment.owner_kind == attachments.MINUTES,
                attachments.Attachment.owner_id.in_(list(minutes_of)),
            )
            .order_by(attachments.Attachment.id)
        ):
            entries[minutes_of[owner]].photos.append(aid)
    for mid, name, grade, total, max_total, outcome, comment, on_time in session.execute(
        select(
            Observation.meeting_id, Person.name, Observation.grade, Observation.total, Observation.max_total,
            Observation.outcome, Observation.comment, Observation.on_time,
        )
        .join(Person, Person.id == Observation.observer_id)
        .where(Observation.meeting_id.in_(ids))
        .order_by(Observation.id)
    ):  # fmt: skip
        entries[mid].observers.append(
            ObserverVisit(name, grade, total, max_total, OUTCOME_LABELS.get(outcome, str(outcome)), comment or "",
                          bool(on_time))
        )  # fmt: skip


def photo_bytes(session: Session, ids: list[int]) -> dict[int, tuple[str, bytes]]:
    """The photos' content type and bytes (for the .docx), in one statement."""
    if not ids:
        return {}
    return {
        aid: (ct, data)
        for aid, ct, data in session.execute(
            select(
                attachments.Attachment.id, attachments.Attachment.content_type, attachments.Attachment.data
            ).where(attachments.Attachment.id.in_(ids))
        )
    }
