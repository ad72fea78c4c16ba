"""The ledgers' organisation: the console tests' small county (tests.console.test_overview.build_org:
a stored November, a December under way) and, for 城关社区党支部 (b1), an October whose every figure
is known: a planned 支部党员大会 with a vote, a probationary member, a latecomer, a leave with its
reason, an absentee, two 补学 (one done), minutes with decisions and a photo, an observer's form; and a
cancelled meeting beside it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from PIL import Image

from handlers.meetings.minutes import add_workdays
from models.attachments import MINUTES, Attachment
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
    MeetingKind,
    MeetingStatus,
    MeetingType,
    Minutes,
    MonthlyPlan,
    PlanItem,
    PlanStatus,
    VoteKind,
)
from models.observers import Observation, Outcome
from models.org import MemberStatus
from tests import builders
from tests.console.test_overview import NOW, Org, build_org
from tests.monthly.conftest import local

OCT = date(2026, 10, 1)
PHOTO_SIZE = (64, 48)


FEES_FROM = date(2026, 9, 1)  # the county's policy: zhibu tracks 党费 from September
AMOUNTS = {"书记1": "10.00", "党员1甲": "5.00", "党员1乙": "2.00", "预备党员1丙": "1.00", "党员1丁": "3.00"}


@dataclass
class LedgerOrg:
    org: Org
    oct_meeting: int
    oct_cancelled: int
    photo: bytes

    def id(self, key: str) -> int:
        return self.org.id(key)


def png(size=PHOTO_SIZE, colour=(183, 28, 28)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def build_ledger_org(session, *, now=NOW) -> LedgerOrg:
    org = build_org(session, now=now)
    c = org.county
    b1 = c.b1
    prob = builders.person(
        session, "预备党员1丙", b1, status=MemberStatus.PROBATIONARY, joined_on=date(2026, 3, 1)
    )
    late = builders.person(session, "党员1丁", b1)
    sec, m1a, m1b = c.people["sec1"], c.people["m1a"], c.people["m1b"]
    starts = local(date(2026, 10, 16), 15)
    m = Meeting(
        branch_id=b1.id, title="十月支部党员大会", topic="讨论发展对象", place="党员活动室", starts_at=starts
    )
    m.kinds = [MeetingKind(type=MeetingType.PARTY_CONGRESS), MeetingKind(type=MeetingType.THEME_DAY)]
    session.add(m)
    cancelled = Meeting(branch_id=b1.id, title="十月党课", topic="党史", place="会议室",
                        starts_at=local(date(2026, 10, 20)), status=MeetingStatus.CANCELLED,
                        cancel_reason="台风停课")  # fmt: skip
    cancelled.kinds = [MeetingKind(type=MeetingType.PARTY_LECTURE)]
    session.add(cancelled)
    session.flush()
    plan = MonthlyPlan(branch_id=b1.id, month=OCT, status=PlanStatus.APPROVED, submitted_at=local(date(2026, 9, 20)),
                       revision=1)  # fmt: skip
    plan.items = [PlanItem(types=["party_congress", "theme_day"], starts_at=starts, place="党员活动室",
                           topic="讨论发展对象", meeting_id=m.id),
                  PlanItem(types=["party_lecture"], starts_at=local(date(2026, 10, 20)), place="会议室",
                           topic="党史")]  # fmt: skip
    session.add(plan)
    for p in (sec, m1a, m1b, prob, late):
        session.add(Invitee(meeting_id=m.id, person_id=p.id))
    rows = [
        (sec, AttendanceStatus.PRESENT), (prob, AttendanceStatus.PRESENT), (late, AttendanceStatus.LATE),
        (m1a, AttendanceStatus.LEAVE), (m1b, AttendanceStatus.ABSENT),
    ]  # fmt: skip
    for p, st in rows:
        session.add(
            Attendance(meeting_id=m.id, person_id=p.id, status=st, method=AttendanceMethod.QR, at=starts)
        )
    session.add(LeaveRequest(meeting_id=m.id, person_id=m1a.id, reason="外出务工", status=LeaveStatus.APPROVED,
                             requested_at=local(date(2026, 10, 15))))  # fmt: skip
    session.add_all([
        MakeupTask(meeting_id=m.id, person_id=m1a.id, origin=MakeupOrigin.LEAVE, due_on=date(2026, 10, 31),
                   status=MakeupStatus.CONFIRMED, note="已学习会议精神"),
        MakeupTask(meeting_id=m.id, person_id=m1b.id, origin=MakeupOrigin.ABSENCE, due_on=date(2026, 10, 31),
                   status=MakeupStatus.OPEN),
    ])  # fmt: skip
    due = add_workdays(date(2026, 10, 16), 3)
    minutes = Minutes(meeting_id=m.id, chair="书记1", recorder="党员1丁", topics="讨论确定发展对象",
                      decisions="同意张三为发展对象", expected_count=5, present_count=3, expected_full=4,
                      expected_probationary=1, present_full=2, present_probationary=1, vote_held=True,
                      vote_kind=VoteKind.DECISION, votes_for=3, voting_base=4, voting_present=3, quorum_met=True,
                      vote_passed=True, submitted_at=local(date(2026, 10, 17), 18), due_on=due)  # fmt: skip
    session.add(minutes)
    session.flush()
    photo = png()
    session.add(Attachment(owner_kind=MINUTES, owner_id=minutes.id, content_type="image/png", size=len(photo),
                           data=photo))  # fmt: skip
    session.add(Observation(meeting_id=m.id, observer_id=org.observer.id, branch_id=b1.id, meeting_starts_at=starts,
                            preset="taihu", items=[], total=92, max_total=100, grade="优秀", comment="程序规范",
                            outcome=Outcome.REMIND, submitted_at=local(date(2026, 10, 16), 18)))  # fmt: skip
    session.flush()
    fees(session, org, prob, late)
    return LedgerOrg(org, m.id, cancelled.id, photo)


def fees(session, org: Org, prob, late) -> None:
    """b1's 党费 from September (the policy's tracking start) to December, every month known:

    书记1 pays every month; 党员1甲 Sep, Oct paid by 党员1丁 (代交), Nov reported on 2 Dec (补交, 待确认),
    Dec not; 党员1乙 never (a run of 4 from September); 预备党员1丙 pays Sep, then 免交 from October;
    党员1丁 pays every month, December on 20 November (预交). b2's members have no amount (待核定) and pay nothing.
    """
    from decimal import Decimal

    c = org.county
    session.add(FeePolicy(org_unit_id=c.county.id, tracking_start=FEES_FROM))
    people = {p.name: p for p in (c.people["sec1"], c.people["m1a"], c.people["m1b"], prob, late)}
    for name, amount in AMOUNTS.items():
        people[name].fee_fixed_amount = Decimal(amount)
    session.add(FeeExemption(person_id=prob.id, from_month=OCT, amount=Decimal("0"), reason="生活困难",
                             approved_by="城关镇党委"))  # fmt: skip

    def pay(name, month, day, status=PaymentStatus.CONFIRMED, by=None):
        session.add(FeePayment(person_id=people[name].id, branch_id=c.b1.id, month=month, amount=people[name].fee_fixed_amount,
                               paid_at=local(day), method=PaymentMethod.COLLECTOR, status=status,
                               paid_by_person_id=people[by].id if by else None))  # fmt: skip

    months = [date(2026, m, 1) for m in (9, 10, 11, 12)]
    for m in months:
        pay("书记1", m, m.replace(day=6))
    pay("党员1甲", months[0], date(2026, 9, 6))
    pay("党员1甲", months[1], date(2026, 10, 9), by="党员1丁")
    pay("党员1甲", months[2], date(2026, 12, 2), status=PaymentStatus.REPORTED)
    pay("预备党员1丙", months[0], date(2026, 9, 6))
    for m in months[:3]:
        pay("党员1丁", m, m.replace(day=6))
    pay("党员1丁", months[3], date(2026, 11, 20))
    session.flush()
