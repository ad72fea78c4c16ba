"""Scheduled jobs of the meetings feature: thin wrappers the scheduler registry calls with a session and now.

Each is idempotent (dedup keys on every message, unique rows, a closed-at mark), so a repeat run,
a catch-up after downtime or a second scheduler adds nothing. The registry (scheduler/jobs.py) calls jobs(core) with the
composition root's CoreConfig; the jobs run with the meeting rules built from it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.jobs import JobFunction, JobSpec, bound, daily, minutely
from handlers.meetings import makeup, minutes, plans, signin
from handlers.meetings import meetings as meetings_uc
from handlers.meetings.types import MeetingsConfig, RestDayShift, meetings_config


def meeting_reminders(session: Session, now: datetime, cfg: MeetingsConfig) -> None:
    """The day-before and two-hours-before reminders, and the host's when the sign-in opens."""
    meetings_uc.send_reminders(session, now=now, cfg=cfg)
    signin.remind_hosts_to_sign_in(session, now=now, cfg=cfg)


def close_signin_windows(session: Session, now: datetime, cfg: MeetingsConfig) -> None:
    """Mark absentees / leave and create 补学 tasks once a window has closed."""
    signin.close_windows(session, now=now, cfg=cfg)


def jobs(core: CoreConfig) -> list[JobSpec]:
    """The jobs, with the plan days and rules of the configuration the composition root passes."""
    cfg = meetings_config(core)

    def with_cfg(run: Callable[..., object]) -> JobFunction:
        return bound(run, cfg=cfg)

    plan_days = ",".join(str(d) for d in cfg.plan_reminder_days)
    # A deadline postponed off a rest day may pass after the report day: look again until the month ends.
    overdue_days = str(cfg.plan_overdue_report_day)
    if cfg.plan_deadline_on_rest_day == RestDayShift.POSTPONE:
        overdue_days += "-31"
    return [
        JobSpec("meetings.reminders", "*/5 * * * *", with_cfg(meeting_reminders), minutely, description="会议提醒（前一天、前两小时；签到开始时提醒主持人）"),
        JobSpec("meetings.close_windows", "*/5 * * * *", with_cfg(close_signin_windows), minutely, description="签到结束：标记缺席、请假，生成补学，向主持人报告到会情况"),
        JobSpec("meetings.plan_reminders", f"0 9 {plan_days} * *", with_cfg(plans.remind_missing_plans), daily, description="提醒报送下月计划"),
        JobSpec(
            "meetings.plan_overdue", f"0 9 {overdue_days} * *", with_cfg(plans.report_missing_plans), daily,
            description="未报送计划的支部名单",
        ),
        JobSpec("meetings.makeup_reminders", "0 9 * * *", with_cfg(makeup.remind_makeup), daily, description="补学到期、逾期提醒"),
        JobSpec("meetings.minutes_reminders", "5 9 * * *", with_cfg(minutes.remind_missing_minutes), daily, description="会议记录待办"),
    ]  # fmt: skip
