"""The scheduler's job list follows the configuration set by the composition root, not the one at import."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import handlers.meetings.jobs  # noqa: F401 - imported before configure(), as in a running process
import handlers.monthly.jobs  # noqa: F401
from handlers.meetings import types as meetings_types
from handlers.monthly import config as monthly_config
from scheduler.jobs import all_jobs
from scheduler.runner import latest_fire, trigger_of

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def configured():
    """Non-default plan days and digest cron; the previous configuration comes back afterwards."""
    meetings_before, monthly_before = meetings_types.get_config(), monthly_config.get_config()
    meetings_types.configure(
        replace(meetings_before, plan_reminder_days=(18, 23), plan_overdue_report_day=27)
    )
    monthly_config.configure(replace(monthly_before, digest_cron="0 8 3 * *"))
    yield
    meetings_types.configure(meetings_before)
    monthly_config.configure(monthly_before)


def _fire_days(spec) -> list[tuple[int, int]]:
    """(day, hour) of every local fire time in November 2026, from the trigger the scheduler builds."""
    trigger, fires = trigger_of(spec, TZ), []
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 1, tzinfo=TZ))
    while fire is not None and fire.month == 11:
        fires.append((fire.day, fire.hour))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(minutes=1))
    return fires


def test_jobs_use_the_configuration_in_force_when_the_scheduler_asks(configured):
    specs = {j.name: j for j in all_jobs()}
    assert _fire_days(specs["meetings.plan_reminders"]) == [(18, 9), (23, 9)]
    assert _fire_days(specs["meetings.plan_overdue"]) == [(27, 9)]
    fire = latest_fire(specs["monthly"], TZ, datetime(2026, 11, 3, 1, tzinfo=UTC))  # 09:00 local, Nov 3
    assert fire is not None and (fire.day, fire.hour) == (3, 8)
    assert specs["monthly"].period(fire) == "2026-10"


def test_default_configuration_gives_the_default_schedule():
    specs = {j.name: j for j in all_jobs()}
    assert _fire_days(specs["meetings.plan_reminders"]) == [(20, 9), (24, 9)]
    assert _fire_days(specs["meetings.plan_overdue"]) == [(26, 9)]
    fire = latest_fire(specs["monthly"], TZ, datetime(2026, 11, 3, 1, tzinfo=UTC))
    assert fire is not None and (fire.day, fire.hour) == (1, 9)
