"""Monthly scores per branch, rolled up per committee, with an explanation of every number.

A constant number of SQL statements whatever the number of branches: every input is read for the
whole organisation at once (GROUP BY branch) and combined in memory.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from handlers.fees.feeday import add_months
from handlers.fees.service import COUNTS_AS_PAID, PolicyBook
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.minutes import add_workdays
from handlers.meetings.types import MeetingsConfig, Period, period_bounds
from handlers.monthly import observers_bridge
from handlers.monthly.config import MonthlyConfig, QuarterMode
from models.fees import FeeExemption, FeePayment
from models.meetings import (
    Attendance,
    AttendanceStatus,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingKind,
    MeetingStatus,
    MeetingType,
    Minutes,
    MonthlyPlan,
    PlanStatus,
)
from models.org import BRANCH_COMMITTEE_ROLES, MemberStatus, OrgUnit, Person, Role, RoleAssignment, UnitKind

COMMITTEE_GROUP = "committee"


@dataclass
class Unit:
    id: int
    kind: str
    name: str
    path: str
    parent_id: int | None
    category: str | None

    def ancestors(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]


@dataclass
class UnitScore:
    unit_id: int
    name: str
    kind: str
    peer_group: str
    score: float
    committee_id: int | None = None
    members: int = 0
    halted: bool = False
    explanation: dict[str, Any] = field(default_factory=dict)
    rank: int = 0
    group_size: int = 0
    lagging: bool = False
    lag_reasons: list[str] = field(default_factory=list)


@dataclass
class MonthScores:
    month: date
    units: dict[int, Unit]
    branches: dict[int, UnitScore]
    committees: dict[int, UnitScore]

    def all(self) -> list[UnitScore]:
        return [*self.branches.values(), *self.committees.values()]


# --- reading the organisation ----------------------------------------------------------------------


def _run(session: Session, stmt):
    """Execute a column select on the session's connection, skipping the ORM result layer.

    Every statement here selects plain columns, so the ORM adds nothing but per-row overhead
    (about a fifth of compute_month's time on SQLite at county scale). compute_month flushes once first,
    so pending changes are still seen, as the session's autoflush would have done.
    """
    return session.connection().execute(stmt)


def load_units(session: Session) -> dict[int, Unit]:
    rows = _run(
        session,
        select(
            OrgUnit.id, OrgUnit.kind, OrgUnit.name, OrgUnit.path, OrgUnit.parent_id, OrgUnit.category
        ).where(OrgUnit.active.is_(True)),
    )
    return {
        r[0]: Unit(r[0], str(r[1].value if hasattr(r[1], "value") else r[1]), r[2], r[3], r[4],
                   (r[5].value if hasattr(r[5], "value") else r[5]))
        for r in rows
    }  # fmt: skip


def nearest_committee(unit: Unit, units: dict[int, Unit]) -> int | None:
    for uid in reversed(unit.ancestors()[:-1]):
        u = units.get(uid)
        if u is not None and u.kind == UnitKind.COMMITTEE:
            return uid
    return None


# --- obligations --------------------------------------------------------------------------------


def obligation_window(period: Period, month: date, mode: QuarterMode) -> tuple[date, date, float] | None:
    """(window start, window end, required this month) of a type, or None when nothing is due this month."""
    start, end = period_bounds(period, month)
    last = add_months(end, -1)
    if period == Period.MONTH:
        return start, end, 1.0
    if period == Period.QUARTER and mode == QuarterMode.SPREAD:
        return start, end, 1 / 3
    return (start, end, 1.0) if month == last else None


def spread_credit(held_to_date: int, held_before: int, k: int) -> float:
    """Spread mode: month k (1..3) of the quarter earns what the running total adds, at most a third."""
    now_c = min(held_to_date, k / 3)
    before = min(held_before, (k - 1) / 3)
    return max(0.0, min(1 / 3, now_c - before))


# --- the inputs, one statement each -----------------------------------------------------------------


def _meeting_rows(session: Session, lo: datetime, hi: datetime):
    """(branch, type, group, starts_at, minutes submitted_at, minutes due_on) of every non-cancelled record."""
    stmt = (
        select(
            Meeting.branch_id,
            MeetingKind.type,
            Meeting.group_id,
            Meeting.starts_at,
            Meeting.id,
            Minutes.submitted_at,
            Minutes.due_on,
        )
        .join(MeetingKind, MeetingKind.meeting_id == Meeting.id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at >= lo, Meeting.starts_at < hi)
    )
    return _run(session, stmt).all()


def _member_counts(session: Session) -> dict[int, tuple[int, int]]:
    full = func.sum(case((Person.status == MemberStatus.FULL, 1), else_=0))
    stmt = (
        select(Person.branch_id, func.count(), full)
        .where(Person.active.is_(True), Person.branch_id.is_not(None))
        .group_by(Person.branch_id)
    )
    return {b: (int(n), int(f or 0)) for b, n, f in _run(session, stmt)}


def _branches_with_committee_roles(session: Session) -> set[int]:
    others = BRANCH_COMMITTEE_ROLES - {Role.SECRETARY, Role.DEPUTY_SECRETARY}
    return set(
        _run(
            session, select(RoleAssignment.org_unit_id).where(RoleAssignment.role.in_(others)).distinct()
        ).scalars()
    )


def _plans(session: Session, month: date) -> dict[int, tuple[PlanStatus, datetime | None]]:
    stmt = select(MonthlyPlan.branch_id, MonthlyPlan.status, MonthlyPlan.submitted_at).where(
        MonthlyPlan.month == month
    )
    return {b: (PlanStatus(s), at) for b, s, at in _run(session, stmt)}


def _attendance(session: Session, lo: datetime, hi: datetime) -> dict[int, dict[str, int]]:
    stmt = (
        select(Meeting.branch_id, Attendance.status, func.count())
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at >= lo, Meeting.starts_at < hi)
        .group_by(Meeting.branch_id, Attendance.status)
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for b, s, n in _run(session, stmt):
        out[b][AttendanceStatus(s).value] = int(n)
    return out


def _makeup(session: Session, month: date, next_month: date) -> dict[int, dict[str, int]]:
    stmt = (
        select(Meeting.branch_id, MakeupTask.status, func.count())
        .join(Meeting, Meeting.id == MakeupTask.meeting_id)
        .where(MakeupTask.due_on >= month, MakeupTask.due_on < next_month)
        .group_by(Meeting.branch_id, MakeupTask.status)
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for b, s, n in _run(session, stmt):
        out[b][MakeupStatus(s).value] = int(n)
    return out


def _unpaid_counts(
    session: Session, month: date, month_end: datetime, units: dict[int, Unit]
) -> dict[int, int]:
    """Members per branch who owe for `month` and have no reported or confirmed payment: one statement.

    The same rule as handlers.fees.service.arrears_counts (a run of at least one month ending with
    `month`), computed in SQL because the scores need only this month's count, not each member's run:
    no 免交 exemption covering the month, admitted (joined_on) before the month ended, and tracked by
    zhibu — from the policy's tracking_start if the branch's policy sets one, else from the month the
    member's roster row was created.
    """
    paid = exists().where(
        FeePayment.person_id == Person.id, FeePayment.month == month, FeePayment.status.in_(COUNTS_AS_PAID)
    )
    exempt = exists().where(
        FeeExemption.person_id == Person.id,
        FeeExemption.amount <= 0,
        FeeExemption.from_month <= month,
        (FeeExemption.to_month.is_(None)) | (FeeExemption.to_month >= month),
    )
    tracked = func.sum(case((Person.created_at < month_end, 1), else_=0))
    stmt = (
        select(Person.branch_id, tracked, func.count())
        .where(
            Person.active.is_(True),
            Person.branch_id.is_not(None),
            (Person.joined_on.is_(None)) | (Person.joined_on < add_months(month, 1)),
            ~paid,
            ~exempt,
        )
        .group_by(Person.branch_id)
    )
    rows = _run(session, stmt).all()
    book = PolicyBook(session, [])
    out = {}
    for branch_id, n_tracked, n_all in rows:
        unit = units.get(branch_id)
        policy = book.policy(unit.ancestors() if unit else [branch_id])
        if policy.tracking_start is None:
            out[branch_id] = int(n_tracked or 0)
        else:
            out[branch_id] = int(n_all) if month >= policy.tracking_start.replace(day=1) else 0
    return out


# --- the score ------------------------------------------------------------------------------------


def _ratio(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


def compute_month(
    session: Session,
    month: date,
    *,
    now: datetime,
    mcfg: MonthlyConfig,
    meetings_cfg: MeetingsConfig,
) -> MonthScores:
    """Every active branch's score for `month` and every committee's roll-up (not yet ranked)."""
    month = month.replace(day=1)
    session.flush()  # the reads below bypass autoflush (see _run); nothing pending emits no statement
    next_month = add_months(month, 1)
    today = now.astimezone(meetings_cfg.tz).date()
    units = load_units(session)
    branches = {u.id: u for u in units.values() if u.kind == UnitKind.BRANCH}
    groups_of: dict[int, set[int]] = defaultdict(set)
    for u in units.values():
        if u.kind == UnitKind.GROUP and u.parent_id is not None:
            groups_of[u.parent_id].add(u.id)

    rules = meetings_cfg.type_rules
    windows = {t: obligation_window(r.period, month, mcfg.quarter_mode) for t, r in rules.items()}
    earliest = min([w[0] for w in windows.values() if w] + [month])
    lo, _ = month_bounds_utc(earliest, meetings_cfg)
    m_lo, m_hi = month_bounds_utc(month, meetings_cfg)

    members = _member_counts(session)
    committee_roles = _branches_with_committee_roles(session)
    plans = _plans(session, month)
    attendance = _attendance(session, m_lo, m_hi)
    makeup = _makeup(session, month, next_month)
    unpaid = _unpaid_counts(session, month, m_hi, units)
    observed = observers_bridge.month_summary(session, month, meetings_cfg.tz)

    # held[branch][type] -> count (or distinct groups for per-group types), per window
    held: dict[int, dict[MeetingType, set]] = defaultdict(lambda: defaultdict(set))
    held_before: dict[int, dict[MeetingType, set]] = defaultdict(lambda: defaultdict(set))
    minutes_due: dict[int, int] = defaultdict(int)
    minutes_ok: dict[int, int] = defaultdict(int)
    minutes_late: dict[int, int] = defaultdict(int)
    seen_meetings: set[int] = set()
    due_cache: dict[date, date] = {}
    for branch_id, mtype, group_id, starts_at, meeting_id, submitted_at, due_on in _meeting_rows(
        session, lo, m_hi
    ):
        if starts_at > now:
            continue
        day = starts_at.astimezone(meetings_cfg.tz).date()
        if due_on is None:
            due_on = due_cache.get(day) or due_cache.setdefault(
                day, add_workdays(day, meetings_cfg.minutes_workdays)
            )
        on_time = submitted_at is not None and submitted_at.astimezone(meetings_cfg.tz).date() <= due_on
        # Held = minutes recorded, or minutes not due yet (a meeting on the 30th is not "missing" on the 1st).
        counts = submitted_at is not None or due_on >= today
        mtype = MeetingType(mtype)
        key = group_id if rules.get(mtype) and rules[mtype].per_group else meeting_id
        if counts:
            held[branch_id][mtype].add(key)
            if day < month:
                held_before[branch_id][mtype].add(key)
        if starts_at >= m_lo and meeting_id not in seen_meetings:
            seen_meetings.add(meeting_id)
            if submitted_at is not None or due_on < today:
                minutes_due[branch_id] += 1
                minutes_ok[branch_id] += on_time
                minutes_late[branch_id] += not on_time

    wc, wq, wr = mcfg.weight_completion, mcfg.weight_quality, mcfg.weight_rectification
    scores: dict[int, UnitScore] = {}
    for b in branches.values():
        n_members, n_full = members.get(b.id, (0, 0))
        has_committee = n_full >= meetings_cfg.committee_threshold or b.id in committee_roles
        req_total = credit_total = 0.0
        meeting_items = []
        for t, window in windows.items():
            if window is None:
                continue
            rule = rules[t]
            if rule.needs_committee and not has_committee:
                continue
            start, _end, required = window
            if rule.per_group:
                required *= len(groups_of.get(b.id, ()))
                if not required:
                    continue
            n_held = len([k for k in held[b.id][t] if k is not None or not rule.per_group])
            if rule.period == Period.QUARTER and mcfg.quarter_mode == QuarterMode.SPREAD:
                k = (month.month - start.month) + 1
                credit = spread_credit(n_held, len(held_before[b.id][t]), k)
            else:
                credit = min(n_held, required)
            req_total += required
            credit_total += credit
            meeting_items.append(
                {"type": t.value, "period": rule.period.value, "held": n_held, "required": round(required, 3),
                 "credit": round(credit, 3)}
            )  # fmt: skip
        plan = plans.get(b.id)
        plan_on_time = None
        if (
            plan is not None
            and plan[0] in (PlanStatus.SUBMITTED, PlanStatus.APPROVED)
            and plan[1] is not None
        ):
            deadline = datetime.combine(
                add_months(month, -1).replace(day=meetings_cfg.plan_deadline_day),
                datetime.max.time(),
                tzinfo=meetings_cfg.tz,
            )
            plan_on_time = plan[1] <= deadline
        att = attendance.get(b.id, {})
        att_total = sum(att.values())
        present = att.get("present", 0) + att.get("late", 0)
        mk = makeup.get(b.id, {})
        mk_total = sum(mk.values())
        obs = observed.get(b.id)
        items = {
            "meetings": _ratio(credit_total, req_total) if req_total else 1.0,
            "plan": 1.0 if plan_on_time else 0.0,
            "minutes": _ratio(minutes_ok[b.id], minutes_due[b.id]),
            "attendance": _ratio(present, att_total),
            "makeup": _ratio(mk.get("confirmed", 0), mk_total),
            "fees": _ratio(n_members - unpaid.get(b.id, 0), n_members),
        }
        weights = {k: w for k, w in mcfg.completion_items.items() if items.get(k) is not None and w > 0}
        wsum = sum(weights.values())
        completion = sum(items[k] * w for k, w in weights.items()) / wsum if wsum else 1.0
        if obs is not None and obs.quality is not None:
            quality, quality_source = obs.quality, "observers"
        elif mcfg.quality_when_missing is None:
            quality, quality_source = completion, "proxy_completion"
        else:
            quality, quality_source = mcfg.quality_when_missing, "constant"
        rect_due = obs.rect_due if obs else 0
        rect_ok = obs.rect_closed_on_time if obs else 0
        rectification = rect_ok / rect_due if rect_due else 1.0
        stops = obs.stops if obs else 0
        reopens = obs.reopens if obs else 0
        penalties = []
        for key, count in (("stop", stops), ("reopen", reopens)):
            if count and mcfg.penalties.get(key):
                penalties.append({"key": key, "count": count, "points": count * mcfg.penalties[key]})
        penalty_total = sum(p["points"] for p in penalties)
        raw = 100 * (wc * completion + wq * quality + wr * rectification) - penalty_total
        score = round(max(0.0, raw), 1)
        explanation = {
            "formula": {"completion": wc, "quality": wq, "rectification": wr},
            "completion": round(completion, 4),
            "quality": round(quality, 4),
            "quality_source": quality_source,
            "rectification": round(rectification, 4),
            "items": {k: (None if v is None else round(v, 4)) for k, v in items.items()},
            "item_weights": {k: round(w / wsum, 4) for k, w in weights.items()} if wsum else {},
            "meetings": meeting_items,
            "plan": {"status": plan[0].value if plan else None, "on_time": bool(plan_on_time)},
            "minutes": {"due": minutes_due[b.id], "on_time": minutes_ok[b.id], "late": minutes_late[b.id]},
            "attendance": {"present": present, "total": att_total, "absent": att.get("absent", 0),
                           "leave": att.get("leave", 0)},
            "makeup": {"confirmed": mk.get("confirmed", 0), "total": mk_total},
            "fees": {"members": n_members, "unpaid": unpaid.get(b.id, 0)},
            "observers": None if obs is None else obs.as_dict(),
            "rectifications": {"due": rect_due, "closed_on_time": rect_ok},
            "penalties": penalties,
            "missing": missing_items(meeting_items, plan_on_time, minutes_late[b.id], unpaid.get(b.id, 0),
                                     mk_total - mk.get("confirmed", 0), rect_due - rect_ok, stops, reopens),
        }  # fmt: skip
        scores[b.id] = UnitScore(
            b.id,
            b.name,
            b.kind,
            b.category or "other",
            score,
            committee_id=nearest_committee(b, units),
            members=n_members,
            halted=bool(stops or reopens),
            explanation=explanation,
        )
    return MonthScores(month, units, scores, roll_up(scores, units, mcfg))


def missing_items(meeting_items, plan_on_time, minutes_late, unpaid, makeup_open, rect_open, stops, reopens):
    """What kept the score down, as keys and numbers (rendered in Chinese by strings.missing_text)."""
    out: list[dict[str, Any]] = []
    for m in meeting_items:
        if m["credit"] + 1e-9 < m["required"]:
            out.append({"key": "meeting", "type": m["type"], "held": m["held"], "required": m["required"]})
    if not plan_on_time:
        out.append({"key": "plan"})
    for key, n in (("minutes_late", minutes_late), ("unpaid", unpaid), ("makeup_open", makeup_open),
                   ("rect_open", rect_open), ("stop", stops), ("reopen", reopens)):  # fmt: skip
        if n:
            out.append({"key": key, "count": n})
    return out


def roll_up(
    branches: dict[int, UnitScore], units: dict[int, Unit], mcfg: MonthlyConfig
) -> dict[int, UnitScore]:
    by_committee: dict[int, list[UnitScore]] = defaultdict(list)
    for s in branches.values():
        if s.committee_id is not None:
            by_committee[s.committee_id].append(s)
    out = {}
    for cid, items in by_committee.items():
        weights = [max(s.members, 1) if mcfg.weight_by_members else 1 for s in items]
        score = round(sum(s.score * w for s, w in zip(items, weights, strict=True)) / sum(weights), 1)
        halted = [s.unit_id for s in items if s.halted]
        u = units[cid]
        out[cid] = UnitScore(
            cid,
            u.name,
            u.kind,
            COMMITTEE_GROUP,
            score,
            committee_id=cid,
            members=sum(s.members for s in items),
            halted=bool(halted),
            explanation={
                "branches": len(items),
                "weighted_by_members": mcfg.weight_by_members,
                "mean_completion": round(sum(s.explanation["completion"] for s in items) / len(items), 4),
                "mean_quality": round(sum(s.explanation["quality"] for s in items) / len(items), 4),
                "halted_branches": halted,
                "missing": _committee_missing(items),
            },
        )
    return out


def _committee_missing(items: list[UnitScore]) -> list[dict[str, Any]]:
    """Totals of the branches' missing items: how many branches miss each meeting type, and so on."""
    meetings: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for s in items:
        for m in s.explanation["missing"]:
            if m["key"] == "meeting":
                meetings[m["type"]] += 1
            elif m["key"] == "plan":
                counts["plan"] += 1
            else:
                counts[m["key"]] += m["count"]
    out = [{"key": "branches_missing_meeting", "type": t, "count": n} for t, n in sorted(meetings.items())]
    out += [{"key": "branches_" + k if k == "plan" else k, "count": n} for k, n in sorted(counts.items())]
    return out
