"""What a scheduled job is, as features declare it. The scheduler package runs them.

A feature module returns its jobs from `def jobs(core: CoreConfig) -> list[JobSpec]` and adds one
line to scheduler/jobs.py: the crons and the rules a job runs by come from the CoreConfig the
composition root hands it (its job functions close over it); there is no configure(). The
function writes rows (outbox messages, records) in the session it is given and never commits: the runner claims (job, period) and runs the function in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

JobFunction = Callable[[Session, datetime, str], None]  # (session, now (aware UTC), period key)


def bound(run: Callable[..., object], **rules: object) -> JobFunction:
    """A use case `run(session, now=..., **rules)` as a job function (it needs no period key): how a
    feature's jobs(core) passes the rules it was configured with."""
    return lambda session, now, _period: run(session, now=now, **rules)


def minutely(fire: datetime) -> str:
    return fire.strftime("%Y-%m-%dT%H:%M")


def daily(fire: datetime) -> str:
    return fire.strftime("%Y-%m-%d")


def monthly(fire: datetime) -> str:
    return fire.strftime("%Y-%m")


@dataclass(frozen=True)
class JobSpec:
    name: str  # stable: it is the APScheduler job id and the job_run key
    cron: str  # crontab "minute hour day month weekday", in the configured time zone
    function: JobFunction
    # The period a fire time belongs to (given the LOCAL fire time); one run per period, ever.
    period: Callable[[datetime], str] = minutely
    # How late a missed run may still happen after downtime (catch-up) or a busy moment (misfire).
    grace: timedelta = timedelta(hours=6)
    description: str = ""
