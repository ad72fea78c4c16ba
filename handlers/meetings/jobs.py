"""Scheduled jobs of the meetings feature: thin wrappers the scheduler registry calls with a session and now.

Each is idempotent (dedup keys on every message, unique rows, a closed-at mark), so a repeat run,
a catch-up after downtime or a second scheduler adds nothing. The registry (scheduler/jobs.py) calls jobs().
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.jobs import JobSpec, daily, minutely
from handlers.meetings import makeup, minutes, plans, signin
from handlers.meetings import meetings as meetings_uc
from handlers.meetings.types import RestDayShift, get_config


def meeting_reminders(session: Session, now: datetime, _period: str = "") -> None:
    """The day-before and two-hours-before reminders, and the host's when the sign-in opens."""
    meetings_uc.send_reminders(session, now=now, cfg=get_config())
    signin.remind_hosts_to_sign_in(session, now=now, cfg=get_config())


def close_signin_windows(session: Session, now: datetime, _period: str = "") -> None:
    """Mark absentees / leave and create 补学 tasks once a window has closed."""
    signin.close_windows(session, now=now, cfg=get_config())


def plan_reminders(session: Session, now: datetime, _period: str = "") -> None:
    """Remind secretaries whose next-month plan is not in."""
    plans.remind_missing_plans(session, now=now, cfg=get_config())


def plan_overdue_report(session: Session, now: datetime, _period: str = "") -> None:
    """The committee's 组织委员 gets the list of branches without a plan."""
    plans.report_missing_plans(session, now=now, cfg=get_config())


def makeup_reminders(session: Session, now: datetime, _period: str = "") -> None:
    """Due-tomorrow and overdue 补学."""
    makeup.remind_makeup(session, now=now, cfg=get_config())


def minutes_reminders(session: Session, now: datetime, _period: str = "") -> None:
    """待办 for meetings whose minutes are due or late."""
    minutes.remind_missing_minutes(session, now=now, cfg=get_config())


def jobs() -> list[JobSpec]:
    """The jobs, with the plan days of the configuration in force now (not at import)."""
    cfg = get_config()
    plan_days = ",".join(str(d) for d in cfg.plan_reminder_days)
    # A deadline postponed off a rest day may pass after the report day: look again until the month ends.
    overdue_days = str(cfg.plan_overdue_report_day)
    if cfg.plan_deadline_on_rest_day == RestDayShift.POSTPONE:
        overdue_days += "-31"
    return [
        JobSpec("meetings.reminders", "*/5 * * * *", meeting_reminders, minutely, description="会议提醒（前一天、前两小时；签到开始时提醒主持人）"),
        JobSpec("meetings.close_windows", "*/5 * * * *", close_signin_windows, minutely, description="签到结束：标记缺席、请假，生成补学，向主持人报告到会情况"),
        JobSpec("meetings.plan_reminders", f"0 9 {plan_days} * *", plan_reminders, daily, description="提醒报送下月计划"),
        JobSpec(
            "meetings.plan_overdue", f"0 9 {overdue_days} * *", plan_overdue_report, daily,
            description="未报送计划的支部名单",
        ),
        JobSpec("meetings.makeup_reminders", "0 9 * * *", makeup_reminders, daily, description="补学到期、逾期提醒"),
        JobSpec("meetings.minutes_reminders", "5 9 * * *", minutes_reminders, daily, description="会议记录待办"),
    ]  # fmt: skip
