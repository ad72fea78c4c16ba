"""Scheduled jobs of 月积分: the monthly run (scores, ladders, digests) and the weekly 待办.

The monthly job fires on the 1st at 09:00 (MonthlyConfig.digest_cron) and its period is the month
it reports on (the previous month), so `zhibu run-job monthly --period 2026-10` names that month.
A month before the start month (models.startmonth) is refused: the scheduler skips it unclaimed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec, daily
from handlers.meetings.types import meetings_config
from handlers.monthly import service, todo
from handlers.monthly.config import monthly_config


def previous_month_period(fire: datetime) -> str:
    return service.previous_month(date(fire.year, fire.month, 1)).strftime("%Y-%m")


def jobs(core: CoreConfig) -> list[JobSpec]:
    """The jobs, with the crons and rules of the configuration the composition root passes; chart and
    page links use its public address and key."""
    mcfg, cfg = monthly_config(core), meetings_config(core)

    def monthly_run(session: Session, now: datetime, period: str) -> None:
        service.run_month_for(session, service.parse_period(period), core, now=now, send=True)

    def weekly_todo(session: Session, now: datetime, _period: str) -> None:
        todo.send_todos(session, now=now, base_url=core.public_base_url, mcfg=mcfg, cfg=cfg)

    return [
        JobSpec("monthly", mcfg.digest_cron, monthly_run, previous_month_period, grace=timedelta(days=5),
                description="月积分、落后约谈提醒和月度通报"),
        JobSpec("monthly.todo", mcfg.todo_cron, weekly_todo, daily, description="书记本周待办"),
    ]  # fmt: skip
