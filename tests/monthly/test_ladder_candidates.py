"""The member ladders choose their people in SQL (issue #22 item 2): on random histories, the runs
they get equal the old computation's, which loaded everyone expected this month (absences) or
everyone unpaid (fees) and decided in Python. The old code stays here only as the oracle.

Absences: exactly the same runs (members with a missed meeting and no good reason this month, and
the watched who caught up). Fees: the same runs, less those longer than the ladder's last step,
unless the member has an open notice (their catching up must be seen); without `longest`, the same.
Meetings, payments, roster rows and the tracking start fall near local month ends (Shanghai is
UTC+8), where a month read in UTC would be the wrong one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, exists, func, or_, select, union, union_all

from handlers.common.dates import add_months, month_start, months_between
from handlers.fees.amounts import liability_start
from handlers.fees.arrears import Arrears, arrears_counts
from handlers.fees.payments import COUNTS_AS_PAID
from handlers.fees.policy import PolicyBook, local_month
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.minutes import held_condition, meeting_counts
from handlers.monthly.ladder import GOOD_ATTENDANCE, _open_subjects, absence_runs
from handlers.monthly.watch import MemberRun
from models import startmonth
from models.fees import FeeExemption, FeePayment, FeePolicy, PaymentMethod, PaymentStatus
from models.meetings import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    Invitee,
    LeaveRequest,
    LeaveStatus,
    MakeupOrigin,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingStatus,
    Minutes,
)
from models.monthly import Escalation, Ladder
from models.org import MemberStatus, OrgUnit, Person, UnitKind
from tests.monthly.conftest import CFG, TZ

MONTH = date(2026, 10, 1)
HISTORY = [add_months(MONTH, -k) for k in range(9, -2, -1)]  # 2026-01 … 2026-11
LONGEST = 6  # the member ladder's last step


def _at(month: date, edge: int) -> datetime:
    """An instant in `month`: its first local minutes, the middle, or its last local minutes."""
    if edge == 0:
        local = datetime.combine(month, time(0, 30), tzinfo=TZ)
    elif edge == 1:
        local = datetime.combine(month.replace(day=15), time(10), tzinfo=TZ)
    else:
        local = datetime.combine(add_months(month, 1), time(0), tzinfo=TZ) - timedelta(minutes=30)
    return local.astimezone(UTC)


# The months where a bound decides: the ladder's window (its first month and the one before), this
# month and the next, drawn more often than the rest.
months = st.sampled_from(HISTORY + [add_months(MONTH, -k) for k in (LONGEST, LONGEST - 1, 0, -1)] * 2)
instants = st.builds(_at, months, st.integers(0, 2))
member = st.fixed_dictionaries(
    {
        "status": st.sampled_from(list(MemberStatus)),
        "joined_on": st.none() | st.builds(lambda m, d: m.replace(day=d), months, st.sampled_from([1, 28])),
        "created_at": st.none() | instants,
        "active": st.sampled_from([True, True, True, False]),
        "exempt_reason": st.sampled_from([None, None, None, "病休"]),
        "payments": st.dictionaries(months, st.sampled_from(list(PaymentStatus)), max_size=6),
        "exemptions": st.lists(
            st.tuples(months, st.none() | months, st.sampled_from([Decimal("0"), Decimal("5")])), max_size=2
        ),
        "open": st.sets(st.sampled_from([Ladder.MEMBER_ABSENCE, Ladder.MEMBER_FEES])),
    }
)
meeting = st.fixed_dictionaries(
    {
        "at": instants,
        "cancelled": st.booleans(),
        "minutes": st.booleans(),
        # per member: invited?, attendance (None = no row), leave approved?, 补学 confirmed?
        "who": st.lists(
            st.tuples(
                st.booleans(),
                st.none() | st.sampled_from(list(AttendanceStatus)),
                st.booleans(),
                st.booleans(),
            ),
            min_size=6,
            max_size=6,
        ),
    }
)
meeting_now = meeting.map(lambda m: {**m, "at": _at(MONTH, m["at"].day % 3)})
history = st.fixed_dictionaries(
    {
        "members": st.lists(member, min_size=6, max_size=6),
        "meetings": st.lists(meeting, max_size=8),
        "this_month": st.lists(meeting_now, min_size=1, max_size=3),
        "start": st.sampled_from([date(2024, 1, 1), date(2026, 3, 1), date(2026, 8, 1), date(2026, 11, 1)]),
        "tracking": st.none() | months,
        "now": st.sampled_from(["job", "mid-month"]),
    }
)


def _edges(tracking: date | None) -> dict:
    """A history at each bound's edge, so that each SQL bound is tested every run, not by chance."""
    first = add_months(MONTH, -(LONGEST - 1))  # the first month of a 6-month run
    quiet = {"status": MemberStatus.FULL, "joined_on": None, "created_at": _at(HISTORY[0], 1), "active": True,
             "exempt_reason": None, "payments": {}, "exemptions": [], "open": set()}  # fmt: skip
    members = [
        {**quiet, "created_at": _at(first, 0)},  # created 00:30 local on the 1st (the day before in UTC)
        {
            **quiet,
            "payments": {add_months(first, -1): PaymentStatus.CONFIRMED},
        },  # paid up to the month before
        {**quiet, "exemptions": [(HISTORY[0], add_months(first, -1), Decimal("0"))]},  # 免交 until then
        {**quiet, "joined_on": first.replace(day=28)},  # owes from its admission month
        quiet,  # marked absent without an invitation: a run of one; unpaid ten months, left out
        {**quiet, "open": {Ladder.MEMBER_ABSENCE, Ladder.MEMBER_FEES}},  # came: caught up; unpaid, kept
    ]
    here = (True, AttendanceStatus.PRESENT, False, False)
    now = {"at": _at(MONTH, 1), "cancelled": False, "minutes": True,
           "who": [here] * 4 + [(False, AttendanceStatus.ABSENT, False, False), here]}  # fmt: skip
    return {"members": members, "meetings": [], "this_month": [now], "start": date(2024, 1, 1),
            "tracking": tracking, "now": "job"}  # fmt: skip


def _write(session, county, h) -> list[Person]:
    branch = county.b1
    startmonth.set_start_month(session, h["start"])
    if h["tracking"] is not None:
        session.add(FeePolicy(org_unit_id=county.c1.id, tracking_start=h["tracking"]))
    people = []
    for i, m in enumerate(h["members"]):
        p = Person(name=f"随机{i}", branch_id=branch.id, status=m["status"], joined_on=m["joined_on"],
                   active=m["active"], attendance_exempt_reason=m["exempt_reason"])  # fmt: skip
        session.add(p)
        session.flush()
        if m["created_at"] is not None:
            p.created_at = m["created_at"]
        people.append(p)
        for month, status in m["payments"].items():
            session.add(FeePayment(person_id=p.id, branch_id=branch.id, month=month, amount=Decimal("10"),
                                   paid_at=_at(month, 1), method=PaymentMethod.COLLECTOR, status=status))  # fmt: skip
        for lo, hi, amount in m["exemptions"]:
            session.add(FeeExemption(person_id=p.id, from_month=lo, to_month=hi if hi is None or hi >= lo else lo,
                                     amount=amount))  # fmt: skip
        for ladder in m["open"]:
            session.add(Escalation(ladder=ladder, subject_id=p.id, unit_id=branch.id, rung=1,
                                   month=add_months(MONTH, -1), streak=1, detail={}))  # fmt: skip
    for mt in h["meetings"] + h["this_month"]:
        row = Meeting(branch_id=branch.id, title="会议", topic="学习", place="活动室", starts_at=mt["at"],
                      status=MeetingStatus.CANCELLED if mt["cancelled"] else MeetingStatus.SCHEDULED)  # fmt: skip
        session.add(row)
        session.flush()
        if mt["minutes"]:
            session.add(Minutes(meeting_id=row.id, chair="书记", recorder="委员", topics="学习",
                                submitted_at=mt["at"], due_on=mt["at"].date()))  # fmt: skip
        for p, (invited, status, leave, makeup) in zip(people, mt["who"], strict=True):
            if invited:
                session.add(Invitee(meeting_id=row.id, person_id=p.id))
            if status is not None:
                session.add(Attendance(meeting_id=row.id, person_id=p.id, status=status,
                                       method=AttendanceMethod.QR, at=mt["at"]))  # fmt: skip
            if leave:
                session.add(LeaveRequest(meeting_id=row.id, person_id=p.id, reason="出差",
                                         status=LeaveStatus.APPROVED, requested_at=mt["at"]))  # fmt: skip
            if makeup:
                session.add(MakeupTask(meeting_id=row.id, person_id=p.id, origin=MakeupOrigin.ABSENCE,
                                       due_on=mt["at"].date(), status=MakeupStatus.CONFIRMED))  # fmt: skip
    session.flush()
    return people


def _now(h) -> datetime:
    if h["now"] == "job":
        return datetime.combine(add_months(MONTH, 1), time(9), tzinfo=TZ).astimezone(UTC)
    return _at(MONTH, 1)


def test_sql_candidates_equal_the_old_computation(session, county):
    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(history)
    @example(_edges(None))
    @example(_edges(add_months(MONTH, -(LONGEST - 1))))
    def check(h):
        try:
            _write(session, county, h)
            now = _now(h)
            open_absence = set(session.scalars(_open_subjects(Ladder.MEMBER_ABSENCE, MONTH)))
            open_fees = set(session.scalars(_open_subjects(Ladder.MEMBER_FEES, MONTH)))
            new = absence_runs(
                session, MONTH, CFG, now=now, watch=_open_subjects(Ladder.MEMBER_ABSENCE, MONTH)
            )
            assert new == old_absence_runs(session, MONTH, CFG, now=now, watch=open_absence)
            old = old_arrears_counts(session, MONTH, tz=TZ)
            assert arrears_counts(session, MONTH, tz=TZ) == old
            kept = arrears_counts(
                session, MONTH, tz=TZ, longest=LONGEST, keep=_open_subjects(Ladder.MEMBER_FEES, MONTH)
            )
            assert kept == {pid: a for pid, a in old.items() if a.months <= LONGEST or pid in open_fees}
        finally:
            session.rollback()  # nothing was committed: the next history starts from the county

    check()


# --- the old computations (before issue #22 item 2), the oracle ----------------------------------


def old_absence_runs(session, month, cfg, *, now, watch) -> dict[int, MemberRun]:
    since = startmonth.start_month(session)
    lo, hi = month_bounds_utc(month, cfg)
    cut = min(hi, now)
    took_place = (Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at < cut)
    counted = (meeting_counts(), held_condition(now, cfg), Meeting.starts_at < cut)
    cand = union(
        select(Invitee.person_id.label("pid"))
        .join(Meeting, Meeting.id == Invitee.meeting_id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(*counted, Meeting.starts_at >= lo),
        # Attendance too: a marked member was expected, and rows imported without invitees still count.
        select(Attendance.person_id.label("pid"))
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(*took_place, Meeting.starts_at >= lo),
    ).cte("cand")
    in_cand = select(cand.c.pid)
    good_events = union_all(
        select(Attendance.person_id.label("pid"), Meeting.starts_at.label("at"))
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Attendance.status.in_(GOOD_ATTENDANCE), *took_place, Attendance.person_id.in_(in_cand)),
        select(LeaveRequest.person_id, Meeting.starts_at)
        .join(Meeting, Meeting.id == LeaveRequest.meeting_id)
        .where(LeaveRequest.status == LeaveStatus.APPROVED, *took_place, LeaveRequest.person_id.in_(in_cand)),
        select(MakeupTask.person_id, Meeting.starts_at)
        .join(Meeting, Meeting.id == MakeupTask.meeting_id)
        .where(MakeupTask.status == MakeupStatus.CONFIRMED, *took_place, MakeupTask.person_id.in_(in_cand)),
    ).subquery()
    good = (
        select(good_events.c.pid, func.max(good_events.c.at).label("last_good"))
        .group_by(good_events.c.pid)
        .cte("good")
    )
    # Every expected meeting after the last good one is, by that, missed without good reason.
    expected = union_all(
        select(Invitee.person_id.label("pid"), Meeting.starts_at.label("at"))
        .join(Meeting, Meeting.id == Invitee.meeting_id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(*counted, Invitee.person_id.in_(in_cand)),
        select(Attendance.person_id, Meeting.starts_at)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(*counted, Attendance.status == AttendanceStatus.ABSENT, Attendance.person_id.in_(in_cand)),
    ).subquery()
    rows = session.execute(
        select(cand.c.pid, Person.name, Person.branch_id, good.c.last_good, expected.c.at)
        .select_from(cand)
        .join(Person, Person.id == cand.c.pid)
        .outerjoin(good, good.c.pid == cand.c.pid)
        .outerjoin(
            expected,
            and_(
                expected.c.pid == cand.c.pid,
                or_(good.c.last_good.is_(None), expected.c.at > good.c.last_good),
            ),
        )
        .where(
            Person.active.is_(True), Person.attendance_exempt_reason.is_(None), Person.branch_id.is_not(None)
        )
    )
    tz = cfg.tz
    state: dict[int, tuple[str, int, date | None, set[date]]] = {}
    for pid, name, branch_id, last_good, at in rows:
        if pid not in state:
            good_month = month_start(last_good.astimezone(tz).date()) if last_good is not None else None
            state[pid] = (name, branch_id, good_month, set())
        if at is not None:
            state[pid][3].add(month_start(at.astimezone(tz).date()))
    out = {}
    for pid, (name, branch_id, good_month, missed) in state.items():
        if good_month is not None and good_month >= month:
            if pid in watch:
                out[pid] = MemberRun(0, name, branch_id, None)
            continue
        if month not in missed:
            continue
        run = sorted(m for m in missed - {good_month} if since is None or m >= since)
        if not run:
            continue
        out[pid] = MemberRun(len(run), name, branch_id, run[0], run)
    return out


def old_arrears_counts(session, month, unit=None, *, tz, default=None) -> dict[int, Arrears]:
    paid = exists().where(
        FeePayment.person_id == Person.id, FeePayment.month == month, FeePayment.status.in_(COUNTS_AS_PAID)
    )
    last_paid = (
        select(func.max(FeePayment.month))
        .where(
            FeePayment.person_id == Person.id,
            FeePayment.status.in_(COUNTS_AS_PAID),
            FeePayment.month <= month,
        )
        .scalar_subquery()
    )
    # 免交 periods only: a reduced amount is still owed. An open-ended period runs to `month`.
    last_exempt = (
        select(func.max(func.coalesce(FeeExemption.to_month, month)))
        .where(
            FeeExemption.person_id == Person.id, FeeExemption.amount <= 0, FeeExemption.from_month <= month
        )
        .scalar_subquery()
    )
    stmt = select(
        Person.id, Person.name, Person.branch_id, Person.status, Person.joined_on, Person.created_at,
        last_paid, last_exempt,
    ).where(Person.active.is_(True), Person.branch_id.is_not(None), ~paid)  # fmt: skip
    if unit is not None:
        stmt = stmt.join(OrgUnit, OrgUnit.id == Person.branch_id).where(OrgUnit.path.startswith(unit.path))
    rows = session.execute(stmt).all()
    if not rows:
        return {}
    book = PolicyBook(session, [], default)
    since = startmonth.start_month(session)
    paths = {
        uid: [int(p) for p in path.strip("/").split("/") if p]
        for uid, path in session.execute(
            select(OrgUnit.id, OrgUnit.path).where(OrgUnit.kind == UnitKind.BRANCH)
        )
    }
    tracking: dict[int, date | None] = {}
    out: dict[int, Arrears] = {}
    for pid, name, branch_id, status, joined_on, created_at, paid_until, exempt_until in rows:
        if branch_id not in tracking:
            tracking[branch_id] = book.policy(paths.get(branch_id, [branch_id])).tracking_start
        if tracking[branch_id] is not None:
            start = month_start(tracking[branch_id])
        else:
            start = local_month(created_at, tz) if created_at else month
        if since is not None and since > start:
            start = since
        liability = liability_start(status, joined_on)
        if liability is not None and liability > start:
            start = liability
        if paid_until is not None:
            start = max(start, add_months(paid_until, 1))
        if exempt_until is not None:
            start = max(start, add_months(min(exempt_until, month), 1))
        n = months_between(start, month) + 1
        if n > 0:
            out[pid] = Arrears(pid, name, branch_id, n, start)
    return out
