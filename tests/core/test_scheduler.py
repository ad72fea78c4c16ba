"""The scheduler's run guard: one run per (job, period), catch-up after downtime, no clock arithmetic."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.core import outbox
from bot.core.jobs import JobSpec, monthly
from bot.core.messages import Text
from models.jobs import JobRun, PeriodNotOpen
from models.outbox import OutboxMessage
from scheduler.runner import RunResult, Scheduler, latest_fire, run_due, run_job
from tests.core.helpers import make_org

TZ = ZoneInfo("Asia/Shanghai")


def _digest_job(person_ids, calls=None, fail: Exception | bool = False):
    def digest(session, now, period):
        if calls is not None:
            calls.append(period)
        outbox.enqueue_to_people(
            session, person_ids, Text(f"{period} 月报"), dedup_key=f"digest:{period}", now=now
        )
        if isinstance(fail, Exception):
            raise fail
        if fail:
            raise RuntimeError("job bug")

    # 09:00 on the 1st of each month, Shanghai time.
    return JobSpec("monthly_digest", "0 9 1 * *", digest, period=monthly, grace=timedelta(days=2))


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_latest_fire_is_read_from_the_trigger_in_local_time():
    spec = _digest_job([])
    now = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 Shanghai on the 1st
    assert latest_fire(spec, TZ, now) == datetime(2026, 3, 1, 9, 0, tzinfo=TZ)
    assert latest_fire(spec, TZ, datetime(2026, 3, 1, 0, 59, tzinfo=UTC)) is None  # 08:59: not yet
    assert latest_fire(spec, TZ, datetime(2026, 3, 4, tzinfo=UTC)) is None  # beyond the 2-day grace


def test_a_period_runs_once_however_often_it_is_triggered(session_factory, session):
    org = make_org(session_factory)
    calls: list = []
    spec = _digest_job([org.secretary_id], calls)
    now = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert run_due(session_factory, spec, TZ, now, trigger="schedule") == RunResult.RAN
    assert (
        run_due(session_factory, spec, TZ, now + timedelta(hours=1), trigger="catch-up") == RunResult.ALREADY
    )
    assert calls == ["2026-03"]
    assert _count(session, OutboxMessage) == 1


def test_catch_up_after_downtime_runs_the_missed_period_once(session_factory, session):
    org = make_org(session_factory)
    calls: list = []
    spec = _digest_job([org.secretary_id], calls)
    # Down from before 09:00 on the 1st until 20:00 on the 2nd: within the grace, so it runs on start.
    clock = [datetime(2026, 3, 2, 12, 0, tzinfo=UTC)]
    first = Scheduler(session_factory, [spec], TZ, clock=lambda: clock[0])
    assert first.catch_up() == {"monthly_digest": RunResult.RAN}
    second = Scheduler(session_factory, [spec], TZ, clock=lambda: clock[0])  # a restart
    assert second.catch_up() == {"monthly_digest": RunResult.ALREADY}
    clock[0] = datetime(2026, 3, 20, tzinfo=UTC)  # mid-month: nothing is due
    assert second.catch_up() == {"monthly_digest": RunResult.NOT_DUE}
    assert calls == ["2026-03"]


def test_a_failing_job_keeps_nothing_and_leaves_the_period_open(session_factory, session):
    org = make_org(session_factory)
    now = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert run_due(
        session_factory, _digest_job([org.secretary_id], fail=True), TZ, now, trigger="schedule"
    ) == (RunResult.FAILED)
    assert _count(session, OutboxMessage) == 0 and _count(session, JobRun) == 0
    assert (
        run_due(session_factory, _digest_job([org.secretary_id]), TZ, now, trigger="schedule")
        == RunResult.RAN
    )
    session.expire_all()
    assert _count(session, OutboxMessage) == 1


def test_a_job_declining_a_period_not_open_yet_is_not_started_and_claims_nothing(session_factory, session):
    """Any job may say its period is not open (the runner knows no job by name): nothing it wrote is
    kept and the period stays unclaimed, so once it opens the same period runs."""
    org = make_org(session_factory)
    now = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    closed = _digest_job([org.secretary_id], fail=PeriodNotOpen("还没有到启用月份"))
    assert run_due(session_factory, closed, TZ, now, trigger="schedule") == RunResult.NOT_STARTED
    assert _count(session, OutboxMessage) == 0 and _count(session, JobRun) == 0
    opened = _digest_job([org.secretary_id])
    assert run_due(session_factory, opened, TZ, now, trigger="catch-up") == RunResult.RAN
    session.expire_all()
    assert _count(session, OutboxMessage) == 1 and _count(session, JobRun) == 1


def test_two_schedulers_run_a_period_once(session_factory, session):
    org = make_org(session_factory, members=20)
    calls: list = []
    spec = _digest_job([org.secretary_id, *org.member_ids], calls)
    now = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    results: list = []
    barrier = threading.Barrier(2)

    def scheduler_process():
        barrier.wait()
        results.append(run_job(session_factory, spec, now=now, period="2026-03"))

    threads = [threading.Thread(target=scheduler_process) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [RunResult.ALREADY, RunResult.RAN]
    assert calls == ["2026-03"]
    assert _count(session, OutboxMessage) == 21


def test_jobs_are_registered_with_explicit_ids_and_next_run_times():
    spec = _digest_job([])
    sched = Scheduler(None, [spec], TZ)
    sched.scheduler.start(paused=True)
    try:
        job = sched.scheduler.get_job("monthly_digest")
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == 2 * 24 * 3600
        assert job.trigger.get_next_fire_time(None, datetime(2026, 3, 5, tzinfo=TZ)) == datetime(
            2026, 4, 1, 9, 0, tzinfo=TZ
        )
    finally:
        sched.scheduler.shutdown(wait=False)
