"""Scheduled jobs of the observers feature. Each is idempotent (dedup keys on every message), so a
repeat run, a catch-up after downtime or a second scheduler adds nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.jobs import JobSpec, daily, minutely
from handlers.observers import service
from handlers.observers.forms import get_config


def _public_base_url() -> str:
    # The card's 填写评价 link needs the public address; jobs get no HandlerContext, so read settings.
    try:
        from config.settings import get_settings

        return get_settings().public_base_url
    except Exception:  # noqa: BLE001 - incomplete settings must not stop notices; the link is then relative
        return ""


def notices(session: Session, now: datetime, _period: str = "") -> None:
    """Observers hear of their branches' newly scheduled, moved or cancelled meetings."""
    service.send_notices(session, now=now, cfg=get_config(), public_base_url=_public_base_url())
    service.send_cancellations(session, now=now, cfg=get_config())


def rectification_reminders(session: Session, now: datetime, _period: str = "") -> None:
    """Due-tomorrow and overdue 整改 items."""
    service.remind_rectifications(session, now=now, cfg=get_config())


def coverage_reminders(session: Session, now: datetime, _period: str = "") -> None:
    """Observers of branches at risk of going unobserved this period."""
    service.remind_coverage(session, now=now, cfg=get_config())


def missed_reopens(session: Session, now: datetime, _period: str = "") -> None:
    """责令重开 deadlines passed without a new meeting, to the committee."""
    service.report_missed_reopens(session, now=now, cfg=get_config())


def jobs() -> list[JobSpec]:
    return [
        JobSpec("observers.notices", "*/5 * * * *", notices, minutely, description="观察员会议提示"),
        JobSpec("observers.rectification_reminders", "10 9 * * *", rectification_reminders, daily, description="整改到期、逾期提醒"),
        JobSpec("observers.coverage_reminders", "15 9 * * *", coverage_reminders, daily, description="观察覆盖提醒"),
        JobSpec("observers.missed_reopens", "20 9 * * *", missed_reopens, daily, description="责令重开逾期报告"),
    ]  # fmt: skip
