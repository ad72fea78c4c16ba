"""The start month (issue #18 item 3): nothing monthly before it, counters start at it, the first
digest says so.

The failure it fixes: a fresh install on 2 December, roster imported that day, and the scheduler's
catch-up at start scored November and sent every branch a 月度通报 of about 31 points.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from handlers.monthly import service
from handlers.roster import read_roster, validate_roster, write_roster
from handlers.roster import texts as T
from handlers.roster.apply import apply_roster
from models import startmonth
from models.jobs import JobRun
from models.monthly import Escalation, Ladder, MonthlyScore
from models.outbox import OutboxMessage
from scheduler.jobs import all_jobs
from scheduler.runner import RunResult, Scheduler
from tests.harness import CONFIG
from tests.monthly.conftest import run_at
from tests.monthly.test_article9_watch import ABSENT, flags, m, meet

TZ = ZoneInfo("Asia/Shanghai")
DT, WW = "dingzhibudemo0001", "wwzhibudemo00001"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


def _roster(tmp_path):
    """A township with two village branches, each with a 书记 and two members on DingTalk."""
    rows = [{T.COMMITTEE: "城关镇党委", T.NAME: "镇组织委员", T.PHONE: "13900000001", T.ROLES: "党委组织委员",
             T.DINGTALK: "orgmember"}]  # fmt: skip
    for b, branch in enumerate(("东风村党支部", "红星村党支部")):
        for i, name in enumerate(("书记", "党员甲", "党员乙")):
            rows.append({
                T.COMMITTEE: "城关镇党委", T.BRANCH: branch, T.CATEGORY: "农村", T.NAME: f"{branch[:2]}{name}",
                T.PHONE: f"139000001{b}{i}", T.STATUS: "正式", T.FEE_CATEGORY: "农民",
                T.ROLES: "书记" if i == 0 else "", T.DINGTALK: f"u{b}{i}",
            })  # fmt: skip
    path = tmp_path / "roster.csv"
    write_roster(path, rows)
    return path


def _import(session, path, today: date):
    """What `zhibu roster import` does: read, validate, apply (with the import's local date)."""
    headers, rows = read_roster(path)
    plan = validate_roster(session, rows, headers, dingtalk_corp_id=DT, wecom_corp_id=WW, today=today)
    assert plan.ok, plan.errors
    return apply_roster(session, plan, today=today)


def _monthly_rows(session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("monthly:"))))


def test_fresh_install_on_2_december_sends_nothing_for_november(session_factory, session, tmp_path):
    dec2 = date(2026, 12, 2)
    result = _import(session, _roster(tmp_path), dec2)
    session.commit()
    assert result.start_month == date(2027, 1, 1)
    assert "已把支部助手的启用月份设为2027年1月" in result.summary()
    assert startmonth.start_month(session) == date(2027, 1, 1)

    # The service starts that afternoon: the catch-up finds the 1 December 09:00 run within its grace.
    clock = [_at(dec2, 15)]
    scheduler = Scheduler(session_factory, all_jobs(CONFIG), TZ, clock=lambda: clock[0])
    assert scheduler.catch_up()["monthly"] == RunResult.NOT_STARTED
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(MonthlyScore)) == 0
    assert session.scalar(select(func.count()).select_from(Escalation)) == 0
    assert _monthly_rows(session) == []  # no 月度通报, no 约谈 notice
    assert session.scalar(select(JobRun).where(JobRun.job_name == "monthly")) is None  # left unclaimed

    # December was partial: on 1 January it is not scored either.
    clock[0] = _at(date(2027, 1, 1), 9, 5)
    assert scheduler._fire("monthly") == RunResult.NOT_STARTED
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(MonthlyScore)) == 0

    # 1 February: January, the first month, is scored and its digest says it is the first month.
    clock[0] = _at(date(2027, 2, 1), 9, 5)
    assert scheduler._fire("monthly") == RunResult.RAN
    session.expire_all()
    months = set(session.scalars(select(MonthlyScore.month)))
    assert months == {date(2027, 1, 1)}
    digests = [r for r in _monthly_rows(session) if r.dedup_key.startswith("monthly:digest:")]
    assert len(digests) >= 3  # both branch secretaries and the committee's 组织委员
    for row in digests:
        assert row.payload["text"].startswith("本月是支部助手启用的第一个月"), row.payload["text"]
    # A second import keeps the start month (only the first sets it).
    later = _import(session, _roster(tmp_path), date(2027, 3, 5))
    assert later.start_month is None and startmonth.start_month(session) == date(2027, 1, 1)


def test_nothing_monthly_runs_without_a_start_month_or_a_roster(session_factory, session):
    clock = _at(date(2026, 12, 1), 9, 30)
    scheduler = Scheduler(session_factory, all_jobs(CONFIG), TZ, clock=lambda: clock)
    assert scheduler.catch_up()["monthly"] == RunResult.NOT_STARTED
    assert session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job_name == "monthly")) == 0


def test_runs_start_counting_at_the_start_month_and_later_digests_are_plain(session, county):
    """党员2乙 missed every 主题党日 from June to November; the branch went live in September, so
    the run is one month in September and three in November (not four and six)."""
    months = [m(2026, k) for k in range(6, 12)]
    for month in months:
        meet(session, county, county.b2, month, status={"党员2乙": ABSENT})
    startmonth.set_start_month(session, m(2026, 9))
    session.commit()
    for month in months[3:]:
        service.run_month_for(session, month, CONFIG, now=run_at(month), send=True)
        session.commit()
    assert flags(session, Ladder.MEMBER_ABSENCE) == [
        ("党员2乙", 1, m(2026, 9), 1),
        ("党员2乙", 3, m(2026, 11), 3),
    ]
    first, second = (
        [r.payload["text"] for r in _monthly_rows(session) if r.dedup_key == f"monthly:digest:{county.b2.id}:{k}"]
        for k in ("2026-09", "2026-10")
    )  # fmt: skip
    assert first and first[0].startswith("本月是支部助手启用的第一个月")
    assert second and "启用的第一个月" not in second[0]


def test_run_month_for_refuses_a_month_before_the_start(session, county):
    startmonth.set_start_month(session, m(2026, 10))
    session.commit()
    try:
        service.run_month_for(session, m(2026, 9), CONFIG, now=run_at(m(2026, 9)), send=True)
    except startmonth.BeforeStartMonth as exc:
        assert "2026年9月早于支部助手的启用月份2026年10月" in exc.reason
    else:
        raise AssertionError("September was run before the start month")
    assert session.scalar(select(func.count()).select_from(MonthlyScore)) == 0
