"""Scheduled jobs of 月积分: the monthly run (scores, ladders, digests) and the weekly 待办.

The monthly job fires on the 1st at 09:00 (MonthlyConfig.digest_cron) and its period is the month
it reports on (the previous month), so `zhibu run-job monthly --period 2026-10` names that month.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.jobs import JobSpec, daily
from handlers.monthly import service, todo
from handlers.monthly.config import get_config


def links() -> tuple[str, str]:
    """(public base URL, secret key) for chart and page links; empty when settings are unavailable."""
    try:
        from config.settings import get_settings

        s = get_settings()
        return s.public_base_url, s.secret_key.get_secret_value()
    except Exception:  # noqa: BLE001 - a job without links still sends the text
        return "", ""


def previous_month_period(fire: datetime) -> str:
    return service.previous_month(date(fire.year, fire.month, 1)).strftime("%Y-%m")


def monthly_run(session: Session, now: datetime, period: str) -> None:
    base_url, secret = links()
    service.run_month(
        session, service.parse_period(period), now=now, send=True, base_url=base_url, secret=secret
    )


def weekly_todo(session: Session, now: datetime, _period: str = "") -> None:
    base_url, _secret = links()
    todo.send_todos(session, now=now, base_url=base_url)


def jobs() -> list[JobSpec]:
    """The jobs, with the crons of the configuration in force now (not at import)."""
    cfg = get_config()
    return [
        JobSpec("monthly", cfg.digest_cron, monthly_run, previous_month_period, grace=timedelta(days=5),
                description="月积分、落后约谈提醒和月度通报"),
        JobSpec("monthly.todo", cfg.todo_cron, weekly_todo, daily, description="书记本周待办"),
    ]  # fmt: skip
