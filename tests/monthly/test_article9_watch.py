"""The 自行脱党 watch (党章第九条; domain.md §2 rules 32–35, E14–E15), each scenario built here.

The small county of conftest: 东门社区党支部 (b2) has 书记2, 党员2甲 and 党员2乙; its committee is
城关镇党委 (组织委员1, 党委副书记1). The monthly job runs at 09:00 on the 1st of the next month.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from handlers.meetings.minutes import add_workdays
from handlers.monthly import service
from handlers.monthly.chat import router
from handlers.monthly.config import MonthlyConfig
from handlers.monthly.ladder import ACK_ACTION, run_member_ladders
from handlers.monthly.recipients import RoleBook
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
)
from models.monthly import Escalation, Ladder, LostContact, WorkNotDone
from models.observers import Observation, Outcome
from models.org import OrgUnit, Person, Role
from tests.core.statements import count_statements
from tests.harness import Chat
from tests.monthly.conftest import BASE, CFG, SECRET, County, local, outbox, run_at


def m(year: int, month: int) -> date:
    return date(year, month, 1)


def meet(session, county: County, branch: OrgUnit, month: date, *, day: int = 10, invited=None,
         status: dict[str, AttendanceStatus] | None = None, cancelled: bool = False,
         types=(MeetingType.THEME_DAY,)) -> Meeting:  # fmt: skip
    """A meeting as the meetings feature leaves it: invitees fixed when scheduled, the window closed
    (everyone invited has a row: present unless `status` says otherwise), minutes on time."""
    starts = local(month.replace(day=day))
    mt = Meeting(branch_id=branch.id, title="会议", topic="学习", place="活动室", starts_at=starts,
                 status=MeetingStatus.CANCELLED if cancelled else MeetingStatus.SCHEDULED)  # fmt: skip
    mt.kinds = [MeetingKind(type=t) for t in types]
    session.add(mt)
    session.flush()
    people = county.members(branch) if invited is None else [county.people[k] for k in invited]
    for p in people:
        session.add(Invitee(meeting_id=mt.id, person_id=p.id))
        if not cancelled:
            st = (status or {}).get(p.name, AttendanceStatus.PRESENT)
            session.add(Attendance(meeting_id=mt.id, person_id=p.id, status=st, at=starts,
                                   method=AttendanceMethod.QR if st == AttendanceStatus.PRESENT else AttendanceMethod.AUTO))  # fmt: skip
    if not cancelled:
        due = add_workdays(month.replace(day=day), CFG.minutes_workdays)
        session.add(Minutes(meeting_id=mt.id, chair="书记", recorder="委员", topics="学习",
                            submitted_at=local(due, 12), due_on=due))  # fmt: skip
    session.flush()
    return mt


ABSENT = AttendanceStatus.ABSENT


def run(session, month: date):
    result = service.run_month(session, month, now=run_at(month), send=True, base_url=BASE, secret=SECRET,
                               mcfg=MonthlyConfig(), cfg=CFG)  # fmt: skip
    session.commit()
    return result


def flags(session, ladder: Ladder) -> list[tuple[str, int, date, int]]:
    rows = session.scalars(select(Escalation).where(Escalation.ladder == ladder).order_by(Escalation.id))
    return [(session.get(Person, r.subject_id).name, r.rung, r.month, r.streak) for r in rows]


def card(session, ladder: Ladder, branch: OrgUnit, month: date) -> dict:
    rows = outbox(session, f"monthly:member:{ladder.value}:{branch.id}:{month:%Y-%m}")
    assert rows, f"no {ladder.value} card for {month}"
    return rows[0].payload


def to_names(session, prefix: str) -> set[str]:
    ids = {r.person_id for r in outbox(session, prefix)}
    return {p.name for p in session.scalars(select(Person).where(Person.id.in_(ids)))}


# --- rule 32: months without a meeting the member was expected at ------------------------------


def test_rule32_months_without_expected_meetings_neither_break_nor_extend_the_run(session, county, observers):
    """党员2乙 misses every meeting he is expected at from January to November 2026, but in February
    and May 东门社区 holds nothing, in April only a 党小组会 he is not invited to, in August the
    meeting is cancelled and in October an observer orders it reconvened (责令重开: not held). Six
    months count (Jan, Mar, Jun, Jul, Sep, Nov): the steps fire at 1, 3, 5 and 6, never twice, and
    the six-month notice says the run started in January and names the months counted."""
    b2 = county.b2
    plan = {
        m(2026, 1): "absent", m(2026, 2): None, m(2026, 3): "absent", m(2026, 4): "group",
        m(2026, 5): None, m(2026, 6): "absent", m(2026, 7): "absent", m(2026, 8): "cancelled",
        m(2026, 9): "absent", m(2026, 10): "reopened", m(2026, 11): "absent",
    }  # fmt: skip
    for month, what in plan.items():
        for other in (county.b1, county.b3, county.b4):
            meet(session, county, other, month)
        if what == "absent":
            meet(session, county, b2, month, status={"党员2乙": ABSENT})
        elif what == "group":
            meet(session, county, b2, month, invited=("sec2", "m2a"), types=(MeetingType.GROUP_MEETING,))
        elif what == "cancelled":
            meet(session, county, b2, month, cancelled=True)
        elif what == "reopened":
            voided = meet(session, county, b2, month, status={"党员2乙": ABSENT})
            session.add(Observation(meeting_id=voided.id, observer_id=county.people["c2org"].id, branch_id=b2.id,
                                    meeting_starts_at=voided.starts_at, preset="taihu", items=[], total=40,
                                    max_total=100, grade="D", outcome=Outcome.REOPEN,
                                    submitted_at=voided.starts_at + timedelta(hours=3)))  # fmt: skip
        session.commit()
        run(session, month)

    assert flags(session, Ladder.MEMBER_ABSENCE) == [
        ("党员2乙", 1, m(2026, 1), 1), ("党员2乙", 3, m(2026, 6), 3), ("党员2乙", 5, m(2026, 9), 5),
        ("党员2乙", 6, m(2026, 11), 6),
    ]  # fmt: skip
    text = card(session, Ladder.MEMBER_ABSENCE, b2, m(2026, 11))["text"]
    assert (
        "党员2乙：连续6个应参会的月份未参加（2026年1月起，计2026年1月、3月、6月、7月、9月、11月；"
        "其间没有需其参加的会议的月份不计）" in text
    )
    assert "党章第九条" in text and "支部大会讨论决定" in text and "系统不作任何认定" in text
    june = card(session, Ladder.MEMBER_ABSENCE, b2, m(2026, 6))["text"]
    assert "连续3个应参会的月份未参加（2026年1月起，计2026年1月、3月、6月" in june
    # Nobody else was flagged: 党员2甲 attended everything he was invited to.
    assert {name for name, *_ in flags(session, Ladder.MEMBER_ABSENCE)} == {"党员2乙"}


def test_rule32_a_long_quiet_spell_does_not_hide_the_run(session, county, observers):
    """The look-back reaches past any number of months without meetings: three misses in 2025, a
    year of nothing, then three more misses make six, listed with its true start (2025)."""
    months = [m(2025, 1), m(2025, 2), m(2025, 3), m(2026, 4), m(2026, 5), m(2026, 6)]
    for month in months:
        meet(session, county, county.b2, month, status={"党员2乙": ABSENT})
    session.commit()
    result = run(session, m(2026, 6))
    assert result.members.member_flags == 1
    assert flags(session, Ladder.MEMBER_ABSENCE) == [("党员2乙", 6, m(2026, 6), 6)]
    text = card(session, Ladder.MEMBER_ABSENCE, county.b2, m(2026, 6))["text"]
    assert "连续6个应参会的月份未参加（2025年1月起，计2025年1月、2月、3月、2026年4月、5月、6月" in text
    assert "党章第九条" in text


# --- rule 33: without good reason ----------------------------------------------------------------


def test_rule33_leave_approved_after_the_window_closed_is_not_an_absence(session, county, observers):
    """党员2乙 asked for leave before the September meeting; the window closed with the request still
    pending (so the row says 缺席) and the secretary approved it the next day. July, August and
    October are unexcused: the run in October is one month (from October), not four."""
    for month in (m(2026, 7), m(2026, 8), m(2026, 9), m(2026, 10)):
        mt = meet(session, county, county.b2, month, status={"党员2乙": ABSENT})
        if month == m(2026, 9):
            session.add(LeaveRequest(meeting_id=mt.id, person_id=county.people["m2b"].id, reason="出差在外",
                                     status=LeaveStatus.APPROVED, requested_at=mt.starts_at - timedelta(days=1),
                                     decided_at=mt.starts_at + timedelta(days=1),
                                     decided_by_id=county.people["sec2"].id))  # fmt: skip
    session.commit()
    for month in (m(2026, 7), m(2026, 8), m(2026, 9), m(2026, 10)):
        run(session, month)
    assert flags(session, Ladder.MEMBER_ABSENCE) == [
        ("党员2乙", 1, m(2026, 7), 1),
        ("党员2乙", 1, m(2026, 10), 1),
    ]
    assert (
        "党员2乙：连续1个月（2026年10月起），提醒"
        in card(session, Ladder.MEMBER_ABSENCE, county.b2, m(2026, 10))["text"]
    )
    # September ended the July notice: he had good reason that month.
    ended = outbox(session, f"monthly:member-end:member_absence:{county.b2.id}:2026-09")
    assert ended and "党员2乙（此前提醒：2026年7月）" in ended[0].payload["text"]


def test_rule33_a_confirmed_makeup_covers_the_absence_an_open_one_does_not(session, county, observers):
    """补学: 党员2乙 missed June to November; the June, July and August absences were made up and the
    secretary confirmed them, September's was reported but not confirmed yet. The run in November
    is three months from September (an unconfirmed 补学 is not yet a good reason)."""
    sec = county.people["sec2"].id
    for month in [m(2026, i) for i in range(6, 12)]:
        mt = meet(session, county, county.b2, month, status={"党员2乙": ABSENT})
        if month.month <= 9:
            confirmed = month.month <= 8
            session.add(MakeupTask(meeting_id=mt.id, person_id=county.people["m2b"].id, origin=MakeupOrigin.ABSENCE,
                                   due_on=month.replace(day=17),
                                   status=MakeupStatus.CONFIRMED if confirmed else MakeupStatus.REPORTED,
                                   confirmed_by_id=sec if confirmed else None))  # fmt: skip
    session.commit()
    run(session, m(2026, 11))
    assert flags(session, Ladder.MEMBER_ABSENCE) == [("党员2乙", 3, m(2026, 11), 3)]
    text = card(session, Ladder.MEMBER_ABSENCE, county.b2, m(2026, 11))["text"]
    assert "党员2乙：连续3个月（2026年9月起），谈话提醒，并报告上级党组织" in text


# --- E14 (c): 不做党所分配的工作, entered by the branch ------------------------------------------


def test_e14_work_not_done_has_its_own_run_and_steps(session_factory, session, county, observers):
    """Counted like the other two conditions (rule 32, E14): its own run of consecutive recorded
    months, notices at 1, 3, 5 and 6 with the latest reason, the 党章第九条 wording at six, and the
    end of the notices when a month has no record. 党员2乙 attends everything and pays nothing is
    asked (no fee policy): only this ladder speaks."""
    chat = Chat(session_factory, [router], now=local(date(2026, 12, 3), 10))
    for month in range(6, 12):
        reply = chat.say("sec2", f"未做分配工作 党员2乙 2026-{month:02d} 第{month}月的值守任务未完成")
        assert "已登记" in reply
    for month in [m(2026, i) for i in range(6, 13)]:
        for b in (county.b1, county.b2, county.b3, county.b4):
            meet(session, county, b, month)
        session.commit()
        run(session, month)
    assert flags(session, Ladder.MEMBER_WORK) == [
        ("党员2乙", 1, m(2026, 6), 1), ("党员2乙", 3, m(2026, 8), 3), ("党员2乙", 5, m(2026, 10), 5),
        ("党员2乙", 6, m(2026, 11), 6),
    ]  # fmt: skip
    assert not flags(session, Ladder.MEMBER_ABSENCE)
    b2 = county.b2
    aug = card(session, Ladder.MEMBER_WORK, b2, m(2026, 8))
    assert aug["title"] == "【月积分】东门社区党支部：连续未做党组织分配的工作（2026年8月）"
    assert (
        "党员2乙：连续3个月（2026年6月起），谈话提醒，并报告上级党组织；最近登记的原因：第8月的值守任务未完成"
        in aug["text"]
    )
    assert to_names(session, f"monthly:member:member_work:{b2.id}:2026-08") == {"书记2", "组织委员1"}
    nov = card(session, Ladder.MEMBER_WORK, b2, m(2026, 11))["text"]
    assert (
        "党员2乙：连续6个月（2026年6月起）" in nov
        and "不做党所分配的工作" in nov
        and "系统不作任何认定" in nov
    )
    # December has no record: the open notices end, and those told hear it once.
    ended = outbox(session, f"monthly:member-end:member_work:{b2.id}:2026-12")
    assert to_names(session, f"monthly:member-end:member_work:{b2.id}:2026-12") == {
        "书记2",
        "组织委员1",
        "党委副书记1",
    }
    assert "2026年12月没有“未做分配工作”的登记" in ended[0].payload["text"]
    # The card's 已阅 works for the people it went to.
    reply = chat.press(
        "c1org", ACK_ACTION, ladder="member_work", branch=str(b2.id), month="2026-11", kind="read"
    )
    assert "组织委员1" in reply and "已阅" in reply


# --- E15 (rule 34): lost contact for six months → 停止党籍 candidate ------------------------------


def test_e15_lost_contact_for_six_months_is_listed_once_for_the_branch_meeting(
    session_factory, session, county, observers
):
    """党员教育管理工作条例 第二十四条 (domain.md rule 34, E15): the secretary records that 党员3甲 has been
    out of contact since May 2026; at six months (October) he is listed once, to the secretary and
    the committee's 组织委员 and 副书记, as a 停止党籍 candidate the 支部大会 decides on; nothing is
    changed on his record. Contact restored in December ends it."""
    b3 = county.b3
    chat = Chat(session_factory, [router], now=local(date(2026, 6, 2), 10))
    # The router folds full-width punctuation (NFKC), so the note is stored with an ASCII comma.
    assert "已登记" in chat.say("sec3", "失联 党员3甲 2026-05 电话停机，家属称外出务工后联系不上")

    for month in [m(2026, i) for i in range(5, 12)]:
        for b in (county.b1, county.b2, county.b3, county.b4):
            meet(session, county, b, month)
        session.commit()
        run(session, month)
    assert flags(session, Ladder.MEMBER_LOST_CONTACT) == [
        ("党员3甲", 6, m(2026, 10), 6)
    ]  # once, not again in November
    oct_ = card(session, Ladder.MEMBER_LOST_CONTACT, b3, m(2026, 10))
    assert oct_["title"] == "【月积分】河西村党支部：失去联系满六个月（2026年10月）"
    text = oct_["text"]
    assert (
        "党员3甲：自2026年5月起与党组织失去联系，已满6个月（支部登记的寻找情况：电话停机，家属称外出务工后联系不上），列为停止党籍的讨论对象"
        in text
    )
    assert "第二十四条" in text and "须由支部大会讨论决定" in text and "系统不作任何认定" in text
    assert to_names(session, f"monthly:member:member_lost_contact:{b3.id}:2026-10") == {
        "书记3",
        "组织委员2",
        "党委副书记2",
    }
    session.expire_all()
    assert session.get(Person, county.people["m3a"].id).active  # the software lists; people decide

    chat = Chat(session_factory, [router], now=local(date(2026, 12, 5), 10))
    assert "已记录：党员3甲已恢复与党组织的联系，自2026年5月起的失联登记到此结束" in chat.say(
        "sec3", "恢复联系 党员3甲 已回村说明情况"
    )
    run(session, m(2026, 12))
    ended = outbox(session, f"monthly:member-end:member_lost_contact:{b3.id}:2026-12")
    assert ended and "已恢复与党组织的联系" in ended[0].payload["text"]


def test_e15_an_old_loss_of_contact_is_listed_at_the_first_run(session_factory, session, county, observers):
    """A record made late (contact lost in January 2025) is past six months at once: listed at the
    next run, though the count never passed through exactly six."""
    chat = Chat(session_factory, [router], now=local(date(2026, 3, 2), 10))
    reply = chat.say("sec3", "失联 党员3甲 2025-01 多次电话未接通，村里无人知其去向")
    assert "已失联15个月" in reply
    run(session, m(2026, 3))
    assert flags(session, Ladder.MEMBER_LOST_CONTACT) == [("党员3甲", 6, m(2026, 3), 15)]
    assert "已满15个月" in card(session, Ladder.MEMBER_LOST_CONTACT, county.b3, m(2026, 3))["text"]


# --- the run stays a fixed number of statements --------------------------------------------------


def test_member_ladders_take_a_fixed_number_of_statements(session, engine, county):
    """N+1 guard: the four member counters cost the same statements for 4 branches or 24, with
    absences, 补学, leave, work records and lost-contact records spread over them."""
    month = m(2026, 10)

    def scenario(branches):
        for b in branches:
            for i in range(7, 11):
                mt = meet(
                    session, county, b, m(2026, i), status={p.name: ABSENT for p in county.members(b)[1:]}
                )
                victim = county.members(b)[-1]
                session.add(MakeupTask(meeting_id=mt.id, person_id=victim.id, origin=MakeupOrigin.ABSENCE,
                                       due_on=m(2026, i).replace(day=20), status=MakeupStatus.CONFIRMED))  # fmt: skip
            member = county.members(b)[1]
            session.add(WorkNotDone(person_id=member.id, branch_id=b.id, month=month, reason="未完成",
                                    recorded_at=run_at(month)))  # fmt: skip
            session.add(LostContact(person_id=county.members(b)[-1].id, branch_id=b.id, since=m(2026, 1),
                                    note="联系不上", recorded_at=run_at(month)))  # fmt: skip
        session.commit()

    def statements():
        mcfg = MonthlyConfig()
        scores = service.score_month(session, month, now=run_at(month), mcfg=mcfg, cfg=CFG)
        book = RoleBook(
            session, {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.ORG_STAFF}
        )
        n = count_statements(engine, lambda: run_member_ladders(session, scores, now=run_at(month), mcfg=mcfg,
                                                                cfg=CFG, book=book, send=False))  # fmt: skip
        session.rollback()
        return n

    scenario([county.b1, county.b2, county.b3, county.b4])
    few = statements()
    from tests.monthly.conftest import _unit

    more = []
    for i in range(20):
        b = _unit(session, f"新支部{i}", county.b1.kind, county.c1, county.b1.category)
        for j in range(3):
            p = Person(name=f"新党员{i}-{j}", branch_id=b.id)
            session.add(p)
            session.flush()
            county.people[f"n{i}-{j}"] = p
        more.append(b)
    scenario(more)
    assert statements() == few
