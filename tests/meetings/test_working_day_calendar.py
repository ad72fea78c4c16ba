"""One working-day calendar (issue #14 point 6): the minutes deadline (domain.md rule 22, 3 working
days), 补学 (rule 51, 7 days), the plan deadline (rule G21, the 25th) and the 党费交纳日 (§3.3, rule F19)
all read models/workcalendar.py, which honours the organisation's local days off (the LocalHoliday
table, inherited down the tree) as well as the State Council calendar.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from handlers.fees import feeday
from handlers.fees.policy import fee_day_for
from handlers.meetings import makeup as makeup_uc
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import minutes as minutes_uc
from handlers.meetings import plans as plans_uc
from handlers.meetings import signin as signin_uc
from handlers.meetings.types import RestDayShift
from models import workcalendar
from models.fees import LocalHoliday
from models.meetings import MakeupTask
from tests.meetings.conftest import CFG, CORE, sent

# Mon 2026-05-18 10:00 Shanghai.
MONDAY = datetime(2026, 5, 18, 2, 0, tzinfo=UTC)


def _local_day(session, unit, day, name="", *, workday=False):
    session.add(LocalHoliday(org_unit_id=unit.id, day=day, name=name, is_workday=workday))
    session.flush()


def _meeting(session, org, start, types=("主题党日",)):
    return meetings_uc.schedule_meeting(
        session, org.secretary, types=list(types), starts_at=start, place="会议室", topic="学习党章",
        now=start - timedelta(days=1), cfg=CFG,
    )  # fmt: skip


def _at(day: date, hour: int = 9) -> datetime:
    """`hour` o'clock Shanghai on `day`, in UTC."""
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


def test_rule_22_a_local_day_off_pushes_the_minutes_deadline(session, org):
    """Rule 22: minutes within 3 working days. A Monday meeting is due on Thursday 5-21; with the
    committee's local day off on Tuesday 5-19 (inherited by the branch) it is due on Friday 5-22, in
    the reminder and in the saved minutes. Before, the minutes deadline ignored local days off."""
    m = _meeting(session, org, MONDAY)
    assert minutes_uc.minutes_due_on(m, CFG) == date(2026, 5, 21)  # the national calendar alone
    _local_day(session, org.committee, date(2026, 5, 19), "县庆")
    cal = workcalendar.calendar_for_unit(session, org.branch)
    assert not cal.is_working_day(date(2026, 5, 19))
    assert minutes_uc.minutes_due_on(m, CFG, cal) == date(2026, 5, 22)
    assert minutes_uc.remind_missing_minutes(session, now=_at(date(2026, 5, 21)), cfg=CFG) == 0
    assert minutes_uc.remind_missing_minutes(session, now=_at(date(2026, 5, 22)), cfg=CFG) == 2
    assert "截止5月22日" in sent(session, f"minutes:{org.branch.id}:remind")[0].payload["text"]
    saved = minutes_uc.record_minutes(
        session, org.secretary, m.id, minutes_uc.MinutesInput("王书记", "赵委员", "学习党章"),
        now=_at(date(2026, 5, 22), 15), cfg=CFG,
    )  # fmt: skip
    assert saved.due_on == date(2026, 5, 22)


def test_rule_22_a_nearer_unit_decides_and_other_branches_keep_their_own_calendar(session, org):
    """The local table is inherited down the tree and a nearer unit's entry for the same day wins: the
    branch works on the committee's day off (a local make-up working day), and a 调休 Sunday can be a
    local day off; the neighbouring branch is not touched by the first branch's entries."""
    _local_day(session, org.committee, date(2026, 5, 19), "县庆")
    _local_day(session, org.branch, date(2026, 5, 19), workday=True)
    assert workcalendar.calendar_for_unit(session, org.branch).is_working_day(date(2026, 5, 19))
    assert not workcalendar.calendar_for_unit(session, org.other_branch).is_working_day(date(2026, 5, 19))
    # 2026-01-04 is a national 调休 working Sunday; a local day off makes it a rest day.
    _local_day(session, org.branch, date(2026, 1, 4), "本地假日")
    cal = workcalendar.calendar_for_unit(session, org.branch.id)
    assert not cal.is_working_day(date(2026, 1, 4))
    assert workcalendar.is_working_day(date(2026, 1, 4))
    book = workcalendar.CalendarBook(session)
    assert not book.for_unit(org.branch.id).is_working_day(date(2026, 1, 4))
    assert book.for_unit(org.other_branch).is_working_day(date(2026, 1, 4))
    assert not book.for_unit(org.other_branch).is_working_day(date(2026, 5, 19))


def test_rule_51_makeup_due_moves_off_a_rest_day_of_the_branch(session, org):
    """Rule 51: 补学 within 7 days. When the 7th day is a rest day of the branch's calendar (a weekend,
    a national holiday or a local day off) the last day is the next working day."""
    sunday = _meeting(session, org, datetime(2026, 5, 17, 2, tzinfo=UTC))  # + 7 = Sun 5-24
    assert makeup_uc.makeup_due_on(sunday, CFG) == date(2026, 5, 25)
    assert makeup_uc.makeup_due_on(sunday, replace(CFG, makeup_due_moves_off_rest_days=False)) == date(
        2026, 5, 24
    )
    _local_day(session, org.branch, date(2026, 5, 26), "本地假日")
    tuesday = _meeting(session, org, datetime(2026, 5, 19, 2, tzinfo=UTC))  # + 7 = Tue 5-26, off locally
    signin_uc.close_windows(session, now=datetime(2026, 5, 19, 4, tzinfo=UTC), cfg=CFG)
    dues = set(session.scalars(select(MakeupTask.due_on).where(MakeupTask.meeting_id == tuesday.id)))
    assert dues == {date(2026, 5, 27)}


def test_rule_g21_the_plan_deadline_keeps_the_25th_unless_told_to_move(session, org):
    """Rule G21: the 25th, inclusive, even on a rest day (2026-07-25 is a Saturday); an organisation may
    postpone it (顺延) or bring it forward (提前) on the same calendar, local days off included, never
    past the end of the month before the plan's."""
    august = date(2026, 8, 1)
    cal = workcalendar.calendar_for_unit(session, org.branch)
    assert plans_uc.plan_deadline(august, CFG, cal).date() == date(2026, 7, 25)
    postpone = replace(CFG, plan_deadline_on_rest_day=RestDayShift.POSTPONE)
    advance = replace(CFG, plan_deadline_on_rest_day=RestDayShift.ADVANCE)
    assert plans_uc.plan_deadline(august, postpone, cal).date() == date(2026, 7, 27)
    assert plans_uc.plan_deadline(august, advance, cal).date() == date(2026, 7, 24)
    _local_day(session, org.branch, date(2026, 7, 27), "本地假日")
    _local_day(session, org.branch, date(2026, 7, 24), "本地假日")
    cal = workcalendar.calendar_for_unit(session, org.branch)
    assert plans_uc.plan_deadline(august, postpone, cal).date() == date(2026, 7, 28)
    assert plans_uc.plan_deadline(august, advance, cal).date() == date(2026, 7, 23)
    for day in range(25, 32):
        _local_day(session, org.branch, date(2026, 12, day), "本地假日")
    cal = workcalendar.calendar_for_unit(session, org.branch)
    assert plans_uc.plan_deadline(date(2027, 1, 1), postpone, cal).date() == date(2026, 12, 31)


def test_rule_g21_a_postponed_deadline_is_reported_once_it_has_passed(session, org):
    """With 顺延, the committee's list names a branch only after the branch's own (moved) deadline; the
    job then looks daily until the month ends."""
    from handlers.meetings.jobs import jobs

    postpone = replace(CFG, plan_deadline_on_rest_day=RestDayShift.POSTPONE)
    _local_day(session, org.branch, date(2026, 7, 27), "本地假日")  # 城关: Sat 25 → Tue 28
    assert plans_uc.report_missing_plans(session, now=_at(date(2026, 7, 28)), cfg=postpone) == 1
    first = sent(session, f"plan:committee:{org.committee.id}")
    assert "河西村党支部" in first[0].payload["text"] and "城关" not in first[0].payload["text"]
    assert "截至27日" in first[0].payload["text"]
    assert plans_uc.report_missing_plans(session, now=_at(date(2026, 7, 29)), cfg=postpone) == 1
    later = sent(session, f"plan:committee:{org.committee.id}")[-1].payload["text"]
    assert "城关社区党支部" in later and "截至28日" in later
    assert plans_uc.report_missing_plans(session, now=_at(date(2026, 7, 30)), cfg=postpone) == 0
    # The default keeps the one report on the 26th.
    (overdue,) = [j for j in jobs(CORE) if j.name == "meetings.plan_overdue"]
    assert overdue.cron == "0 9 26 * *"


def test_rule_f19_the_fee_day_reads_the_same_calendar(session, org):
    """F19 / §3.3: the fee day is computed on the same calendar as the other deadlines: a local day off
    on the first Friday moves it, exactly as the fee feature's own loader does."""
    _local_day(session, org.committee, date(2026, 11, 6), "自治州成立纪念日")
    cal = workcalendar.calendar_for_unit(session, org.branch)
    shared = feeday.fee_day(2026, 11, cal=cal)
    assert shared.day == date(2026, 11, 13) and "自治州成立纪念日" in shared.reason
    assert fee_day_for(session, org.branch, date(2026, 11, 1)) == shared
    assert feeday.WorkCalendar is workcalendar.WorkCalendar
    assert minutes_uc.add_workdays is workcalendar.add_working_days


def test_uncovered_years_fall_back_to_weekdays_plus_the_local_table():
    """§3.4: chinesecalendar raises outside its years; the calendar then counts Monday to Friday, and
    the local table still applies."""
    assert not workcalendar.package_covers(2099)
    assert workcalendar.add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)
    cal = workcalendar.WorkCalendar(local_days_off={date(2099, 1, 5): "本地假日"})
    assert cal.add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 6)
