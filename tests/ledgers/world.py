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


# --- 观察员台账 (#17 item 3) ------------------------------------------------------------------------------

OBS_SINCE = date(2026, 1, 5)  # every observer link below was made on this day
TAIHU_ITEMS = [("会前准备", 15), ("程序规范", 20), ("到会情况", 15), ("内容质量", 25), ("记录规范", 10),
               ("议定事项落实/整改", 15)]  # fmt: skip


def form_items(scores: list[int], comments: dict[str, str] | None = None) -> list[dict]:
    """A 太湖县 评价表's items as an Observation stores them."""
    return [{"key": str(i), "label": label, "max": top, "score": s, "comment": (comments or {}).get(label, "")}
            for i, ((label, top), s) in enumerate(zip(TAIHU_ITEMS, scores, strict=True))]  # fmt: skip


@dataclass
class ObserversWorld:
    lorg: LedgerOrg
    wang: int  # 观察员小王 (a member of 东门社区党支部): observes 城关社区 and 河西村
    zhou: int  # 观察员老周 (河西村): observes 城关社区; his link to 东门社区 has ended
    oct_obs: int
    nov_obs: int
    stop_obs: int  # 小王 at 河西村 in November: 叫停
    pass_obs: int  # 小王 at 城关社区 on 1 December: 合格
    reopen_obs: int  # 小王 at 河西村 on 2 December: 责令重开


def build_observers_world(session, lorg: LedgerOrg) -> ObserversWorld:
    """On top of the ledgers' county, 2026 in the observers' ledger, every figure known:

    links: 老周→城关社区 (since 5 Jan), 老周→东门社区 (ended), 小王→城关社区, 小王→河西村; 东门社区 and 河东村
    have no observer. Forms: 老周 at 城关社区 16 Oct (现场提醒, 92: 14/18/13/23/9/15 with a comment on
    内容质量) and 10 Nov (责令纠正, 80, two items: one open and overdue, one 销号); 小王 at 河西村 in November
    (叫停, 55, submitted late), at 城关社区 on 1 Dec (合格, 95) and at 河西村 on 2 Dec (责令重开 by 17 Dec, 70).
    Coverage 2026 下半年: 城关社区 3 meetings, 河西村 2, the other two none; 上半年: none.
    """
    from sqlalchemy import select

    from models.observers import Observation, ObserverAssignment, Outcome
    from tests.monthly.conftest import local

    org, c = lorg.org, lorg.org.county
    zhou = org.observer
    wang = builders.person(session, "观察员小王", c.b2, account_id="wang", corp="x")
    for link in session.scalars(select(ObserverAssignment).where(ObserverAssignment.observer_id == zhou.id)):
        link.created_at = local(OBS_SINCE)
    session.add_all([
        ObserverAssignment(observer_id=zhou.id, branch_id=c.b2.id, active=False, created_at=local(OBS_SINCE)),
        ObserverAssignment(observer_id=wang.id, branch_id=c.b1.id, active=True, created_at=local(OBS_SINCE)),
        ObserverAssignment(observer_id=wang.id, branch_id=c.b3.id, active=True, created_at=local(OBS_SINCE)),
    ])  # fmt: skip
    oct_obs = session.scalars(select(Observation).where(Observation.meeting_id == lorg.oct_meeting)).one()
    oct_obs.items = form_items([14, 18, 13, 23, 9, 15], {"内容质量": "联系实际不够"})
    nov_obs = session.scalars(
        select(Observation).where(Observation.meeting_id == org.meetings["b1-nov"])
    ).one()
    nov_obs.items = form_items([12, 16, 12, 20, 8, 12])

    def form(meeting, branch, when, total, outcome, scores, **kw):
        o = Observation(meeting_id=org.meetings[meeting], observer_id=wang.id, branch_id=branch.id,
                        meeting_starts_at=when, preset="taihu", items=form_items(scores), total=total,
                        max_total=100, grade=kw.pop("grade"), outcome=outcome, submitted_at=when, **kw)  # fmt: skip
        session.add(o)
        session.flush()
        return o.id

    nov, dec = date(2026, 11, 10), date(2026, 12, 1)
    stop = form("b3-nov", c.b3, local(nov), 55, Outcome.STOP, [8, 10, 9, 14, 6, 8], grade="D",
                comment="照本宣科，当场叫停", on_time=False)  # fmt: skip
    passed = form("b1-dec", c.b1, local(dec), 95, Outcome.PASS, [15, 19, 14, 24, 9, 14], grade="A")
    reopen = form("b3-dec", c.b3, local(dec.replace(day=2)), 70, Outcome.REOPEN, [10, 14, 10, 18, 8, 10],
                  grade="C", reopen_by=date(2026, 12, 17))  # fmt: skip
    session.flush()
    return ObserversWorld(lorg, wang.id, zhou.id, oct_obs.id, nov_obs.id, stop, passed, reopen)
