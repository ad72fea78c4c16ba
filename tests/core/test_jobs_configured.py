"""The scheduler's job list follows the rules the composition root passes, not module defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.context import CoreConfig
from config import Settings
from scheduler.jobs import all_jobs
from scheduler.runner import latest_fire, trigger_of

TZ = ZoneInfo("Asia/Shanghai")


def _core(**rules) -> CoreConfig:
    return CoreConfig.from_settings(Settings(database_url="sqlite://", **rules))


def _fire_days(spec) -> list[tuple[int, int]]:
    """(day, hour) of every local fire time in November 2026, from the trigger the scheduler builds."""
    trigger, fires = trigger_of(spec, TZ), []
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 1, tzinfo=TZ))
    while fire is not None and fire.month == 11:
        fires.append((fire.day, fire.hour))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(minutes=1))
    return fires


def test_jobs_use_the_configuration_they_are_given():
    core = _core(
        meetings={"plan_reminder_days": [18, 23], "plan_overdue_report_day": 27},
        monthly={"digest_cron": "0 8 3 * *"},
    )
    specs = {j.name: j for j in all_jobs(core)}
    assert _fire_days(specs["meetings.plan_reminders"]) == [(18, 9), (23, 9)]
    assert _fire_days(specs["meetings.plan_overdue"]) == [(27, 9)]
    fire = latest_fire(specs["monthly"], TZ, datetime(2026, 11, 3, 1, tzinfo=UTC))  # 09:00 local, Nov 3
    assert fire is not None and (fire.day, fire.hour) == (3, 8)
    assert specs["monthly"].period(fire) == "2026-10"


def test_a_postponed_plan_deadline_is_looked_for_until_the_month_ends():
    specs = {j.name: j for j in all_jobs(_core(meetings={"plan_deadline_on_rest_day": "postpone"}))}
    assert _fire_days(specs["meetings.plan_overdue"]) == [(d, 9) for d in range(26, 31)]


def test_default_configuration_gives_the_default_schedule():
    specs = {j.name: j for j in all_jobs(_core())}
    assert _fire_days(specs["meetings.plan_reminders"]) == [(20, 9), (24, 9)]
    assert _fire_days(specs["meetings.plan_overdue"]) == [(26, 9)]
    assert specs["observers.coverage_gaps"].cron == "30 9 6 5,11 *"
    fire = latest_fire(specs["monthly"], TZ, datetime(2026, 11, 3, 1, tzinfo=UTC))
    assert fire is not None and (fire.day, fire.hour) == (1, 9)


def test_the_observers_preset_chooses_the_gap_report_and_its_period():
    specs = {j.name: j for j in all_jobs(_core(observers={"preset": "hubin"}))}
    spec = specs["observers.coverage_gaps"]
    assert spec.cron == "30 9 20 * *"
    assert spec.period(datetime(2026, 5, 20, 9, 30, tzinfo=TZ)) == "2026-05"  # monthly, not 2026-H1
