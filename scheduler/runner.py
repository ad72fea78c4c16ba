"""APScheduler wiring and the run guard: claim (job, period), then run, in one transaction.

APScheduler decides *when* to call; the period of a run comes from the trigger's latest fire time at
or before now, never from clock arithmetic in a tick. A restart, a catch-up after downtime or a
second scheduler process finds the period claimed and does nothing.

A job may decline its period by raising models.jobs.PeriodNotOpen (the monthly run, for a month
before the organisation's start month): nothing it wrote is kept, the period is not claimed (opening
it later, e.g. an earlier start month, lets it run), and the result is NOT_STARTED.
"""

from __future__ import annotations

import enum
import logging
import socket
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.core import metrics
from bot.core.jobs import JobSpec
from models.base import utcnow
from models.jobs import JobRun, PeriodNotOpen

logger = logging.getLogger(__name__)


class RunResult(enum.StrEnum):
    RAN = "ran"
    ALREADY = "already"  # the period was claimed before (by us, a restart or another scheduler)
    FAILED = "failed"  # the job raised; nothing it wrote was kept, and the period stays open
    NOT_DUE = "not_due"  # catch-up: no fire time within the grace window
    NOT_STARTED = "not_started"  # the job said its period is not open yet (PeriodNotOpen): not claimed


def trigger_of(spec: JobSpec, tz: ZoneInfo) -> CronTrigger:
    return CronTrigger.from_crontab(spec.cron, timezone=tz)


def latest_fire(
    spec: JobSpec, tz: ZoneInfo, now: datetime, *, within: timedelta | None = None
) -> datetime | None:
    """The most recent fire time at or before `now` (local, aware), looking back `within` (default: grace)."""
    trigger = trigger_of(spec, tz)
    start = (now - (within if within is not None else spec.grace)).astimezone(tz)
    last = None
    fire = trigger.get_next_fire_time(None, start)
    for _ in range(200_000):  # a once-a-minute job over a long window stays bounded
        if fire is None or fire > now:
            break
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return last


def claim_period(session: Session, job_name: str, period: str, *, now: datetime, trigger: str) -> bool:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(JobRun)
        .values(
            job_name=job_name, period=period, started_at=now, trigger=trigger, host=socket.gethostname()[:100]
        )
        .on_conflict_do_nothing(index_elements=["job_name", "period"])
        .returning(JobRun.id)
    )
    return session.execute(stmt).first() is not None


def run_job(
    session_factory: sessionmaker[Session],
    spec: JobSpec,
    *,
    now: datetime,
    period: str,
    trigger: str = "schedule",
) -> RunResult:
    try:
        with session_factory() as session, session.begin():
            if not claim_period(session, spec.name, period, now=now, trigger=trigger):
                logger.info("job %s period %s already ran", spec.name, period)
                metrics.JOB_RUNS.labels(spec.name, RunResult.ALREADY.value).inc()
                return RunResult.ALREADY
            spec.function(session, now, period)
    except PeriodNotOpen as exc:
        logger.info("job %s period %s skipped: %s", spec.name, period, exc.reason)
        metrics.JOB_RUNS.labels(spec.name, RunResult.NOT_STARTED.value).inc()
        return RunResult.NOT_STARTED
    except Exception:
        logger.exception("job %s period %s failed; it will be retried", spec.name, period)
        metrics.JOB_RUNS.labels(spec.name, RunResult.FAILED.value).inc()
        return RunResult.FAILED
    logger.info("job %s period %s done (%s)", spec.name, period, trigger)
    metrics.JOB_RUNS.labels(spec.name, RunResult.RAN.value).inc()
    return RunResult.RAN


def run_due(
    session_factory: sessionmaker[Session], spec: JobSpec, tz: ZoneInfo, now: datetime, *, trigger: str
) -> RunResult:
    """Run the period of the latest fire time within the grace window, if it has not run yet."""
    fire = latest_fire(spec, tz, now)
    if fire is None:
        return RunResult.NOT_DUE
    return run_job(session_factory, spec, now=now, period=spec.period(fire), trigger=trigger)


class Scheduler:
    """One BackgroundScheduler with every job: explicit ids, replace_existing, coalesce, one instance each."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        jobs: Iterable[JobSpec],
        tz: ZoneInfo,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_ran: Callable[[], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.jobs = {j.name: j for j in jobs}
        self.tz = tz
        self.clock = clock
        self.on_ran = on_ran
        self.scheduler = BackgroundScheduler(timezone=tz)
        for spec in self.jobs.values():
            self.scheduler.add_job(
                self._fire,
                trigger_of(spec, tz),
                args=[spec.name],
                id=spec.name,
                name=spec.description or spec.name,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(spec.grace.total_seconds()),
            )

    def _fire(self, name: str, trigger: str = "schedule") -> RunResult:
        result = run_due(self.session_factory, self.jobs[name], self.tz, self.clock(), trigger=trigger)
        if result == RunResult.RAN and self.on_ran is not None:
            self.on_ran()
        return result

    def catch_up(self) -> dict[str, RunResult]:
        """After downtime: each job's latest due period runs once if it has not, within its grace."""
        return {name: self._fire(name, "catch-up") for name in self.jobs}

    def start(self) -> None:
        self.catch_up()
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def next_run_times(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}
