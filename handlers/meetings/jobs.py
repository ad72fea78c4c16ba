"""Scheduled jobs of the meetings feature: thin wrappers the scheduler registry calls with a session and now.

Each is idempotent (dedup keys on every message, unique rows, a closed-at mark), so a repeat run,
a catch-up after downtime or a second scheduler adds nothing. Suggested triggers are in JOBS.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from handlers.meetings import makeup, minutes, plans, signin
from handlers.meetings import meetings as meetings_uc
from handlers.meetings.types import get_config


def meeting_reminders(session: Session, now: datetime) -> int:
    """The day-before and two-hours-before reminders (run every few minutes)."""
    return meetings_uc.send_reminders(session, now=now, cfg=get_config())


def close_signin_windows(session: Session, now: datetime) -> int:
    """Mark absentees / leave and create 补学 tasks once a window has closed (run every few minutes)."""
    return len(signin.close_windows(session, now=now, cfg=get_config()))


def plan_reminders(session: Session, now: datetime) -> int:
    """Remind secretaries whose next-month plan is not in (cron: the 20th and 24th, 09:00)."""
    return plans.remind_missing_plans(session, now=now, cfg=get_config())


def plan_overdue_report(session: Session, now: datetime) -> int:
    """The committee's 组织委员 gets the list of branches without a plan (cron: the 26th, 09:00)."""
    return plans.report_missing_plans(session, now=now, cfg=get_config())


def makeup_reminders(session: Session, now: datetime) -> int:
    """Due-tomorrow and overdue 补学 (cron: daily 09:00)."""
    return makeup.remind_makeup(session, now=now, cfg=get_config())


def minutes_reminders(session: Session, now: datetime) -> int:
    """待办 for meetings whose minutes are due or late (cron: daily 09:00)."""
    return minutes.remind_missing_minutes(session, now=now, cfg=get_config())


# name → (function, suggested APScheduler trigger arguments, in the configured zone)
JOBS = {
    "meetings.reminders": (meeting_reminders, {"trigger": "interval", "minutes": 5}),
    "meetings.close_windows": (close_signin_windows, {"trigger": "interval", "minutes": 5}),
    "meetings.plan_reminders": (plan_reminders, {"trigger": "cron", "day": "20,24", "hour": 9}),
    "meetings.plan_overdue": (plan_overdue_report, {"trigger": "cron", "day": 26, "hour": 9}),
    "meetings.makeup_reminders": (makeup_reminders, {"trigger": "cron", "hour": 9}),
    "meetings.minutes_reminders": (minutes_reminders, {"trigger": "cron", "hour": 9, "minute": 5}),
}
